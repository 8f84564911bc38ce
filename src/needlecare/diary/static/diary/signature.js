// The drawn signature on the pre-visit consent: pointer events on a canvas (finger, pen or
// mouse). The strokes go to the hidden "strokes" field as [[x, y], …] lists in the canvas's
// own pixels; the server draws the stored SVG from them. Without this script the page asks
// for the typed name only.
(function () {
  "use strict";
  var box = document.querySelector("[data-signature]");
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("sign-form");
  if (!box || !canvas || !form || !canvas.getContext) { return; }
  var field = form.querySelector("input[name=strokes]");
  var context = canvas.getContext("2d");
  var strokes = [];
  var current = null;
  box.hidden = false;
  context.lineWidth = 2;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = "#000";

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    var x = (event.clientX - rect.left) * (canvas.width / rect.width);
    var y = (event.clientY - rect.top) * (canvas.height / rect.height);
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  function save() { field.value = strokes.length ? JSON.stringify(strokes) : ""; }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    try { canvas.setPointerCapture(event.pointerId); } catch (ignored) { /* not a live pointer */ }
    current = [point(event)];
    strokes.push(current);
    context.beginPath();
    context.moveTo(current[0][0], current[0][1]);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!current) { return; }
    event.preventDefault();
    var p = point(event);
    current.push(p);
    context.lineTo(p[0], p[1]);
    context.stroke();
  });
  function end() { if (current) { current = null; save(); } }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  document.getElementById("signature-clear").addEventListener("click", function () {
    strokes = [];
    context.clearRect(0, 0, canvas.width, canvas.height);
    save();
  });
  form.addEventListener("submit", save);
}());
