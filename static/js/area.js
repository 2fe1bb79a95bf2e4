// Picking a county shows its townships: submit right away (without JS the 筛选 button does it).
(function () {
  "use strict";
  var county = document.getElementById("id_county");
  if (!county) return;
  county.addEventListener("change", function () {
    var township = document.getElementById("id_township");
    if (township) township.value = "";
    this.form.submit();
  });
})();
