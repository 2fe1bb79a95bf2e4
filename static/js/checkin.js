// The check-in page's scanner (templates/activities/staff/checkin_activity.html): a QR code read
// by the camera or from a photo fills in the booking code and looks it up.
(function () {
  "use strict";
  var scan = document.getElementById("scan");
  var note = document.getElementById("scan-note");
  var box = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var input = document.getElementById("id_code");
  var form = document.getElementById("lookup");
  var photo = document.getElementById("scan-photo");
  var scanError = document.getElementById("scan-error");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var timer = null;
  // Large photos are scaled down first: a phone's 12-megapixel picture takes seconds to read.
  var MAX_SIDE = 1024;

  // The QR code may hold the bare code or a link carrying it (?code=… or a last path part).
  function codeFrom(raw) {
    var text = (raw || "").trim();
    try {
      var url = new URL(text);
      text = url.searchParams.get("code") || url.pathname.split("/").filter(Boolean).pop() || text;
    } catch (e) { /* not a link: the code itself */ }
    return text.toUpperCase();
  }
  function found(raw) {
    input.value = codeFrom(raw);
    stop();
    form.submit();
  }
  // jsQR reads the pixels of a canvas: the same decoder on iOS Safari, in WeChat's browser and
  // in Chromium, whether or not the browser has BarcodeDetector.
  function decode(source, width, height) {
    var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    var result = window.jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "attemptBoth" });
    return result ? result.data : null;
  }
  function stop() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.hidden = true;
  }
  function tick() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var text = decode(video, video.videoWidth, video.videoHeight);
      if (text) { found(text); return; }
    }
    timer = setTimeout(tick, 200);
  }
  function showError(text) { scanError.textContent = text; scanError.hidden = false; }

  photo.addEventListener("change", function () {
    var file = photo.files && photo.files[0];
    if (!file) { return; }
    scanError.hidden = true;
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.onload = function () {
      var text = decode(image, image.naturalWidth, image.naturalHeight);
      URL.revokeObjectURL(url);
      photo.value = "";
      if (text) { found(text); } else { showError(scanError.dataset.notFound); }
    };
    image.onerror = function () {
      URL.revokeObjectURL(url);
      showError(scanError.dataset.unreadable);
    };
    image.src = url;
  });

  if (!window.jsQR || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    note.hidden = false;
    return;
  }
  scan.hidden = false;
  document.getElementById("scan-stop").addEventListener("click", stop);
  scan.addEventListener("click", function () {
    scanError.hidden = true;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.setAttribute("playsinline", "");
        video.srcObject = s;
        box.hidden = false;
        return video.play();
      })
      .then(tick)
      .catch(function () { stop(); note.hidden = false; });
  });
})();
