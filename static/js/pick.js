// 点单: picking a county or township shows the next select: submit right away (without JS the
// button does it).
(function () {
  "use strict";
  ["id_county", "id_township"].forEach(function (id, i) {
    var el = document.getElementById(id);
    if (!el) return;
    el.addEventListener("change", function () {
      ["id_township", "id_point"].slice(i).forEach(function (below) {
        var b = document.getElementById(below);
        if (b) b.value = "";
      });
      this.form.submit();
    });
  });
})();
