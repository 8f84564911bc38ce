/* The check-in form, enhanced: "None of these" answers every warning sign "no" at once, and a
   "yes" to any sign switches the answer to "Some of these". The form works without this
   script: the server reads "None of these" as "no" to every sign. */
(function () {
  "use strict";
  var form = document.querySelector("form.checkin");
  if (!form) { return; }
  var none = form.querySelector("input[name=flags][value=none]");
  var some = form.querySelector("input[name=flags][value=some]");
  if (!none || !some) { return; }
  none.addEventListener("change", function () {
    if (!none.checked) { return; }
    form.querySelectorAll("input[type=radio][name^=flag_][value=no]").forEach(function (radio) {
      radio.checked = true;
    });
  });
  form.querySelectorAll("input[type=radio][name^=flag_][value=yes]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked) { some.checked = true; }
    });
  });
}());
