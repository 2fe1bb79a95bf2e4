// The order form's date picker follows the chosen menu item: its earliest day is today plus
// the item's lead days (the server checks the same and says so when a date is too early).
(function () {
  "use strict";
  var date = document.querySelector("input[type=date][data-lead-days]");
  var item = document.getElementById("id_item");
  if (!date || !item) { return; }
  var lead = {};
  try { lead = JSON.parse(date.getAttribute("data-lead-days")) || {}; } catch (e) { return; }
  var today = date.getAttribute("data-today");

  function earliest() {
    var days = lead[item.value] || 0;
    var d = new Date(today + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  item.addEventListener("change", function () {
    date.min = earliest();
    if (date.value && date.value < date.min) { date.value = ""; }
  });
})();
