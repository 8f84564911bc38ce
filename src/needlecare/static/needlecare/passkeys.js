// After django-otp-webauthn registers a passkey, reload the account page so that the new
// passkey (and the recovery-code offer) appear in the list. A file, not an inline script: the
// pages run under a strict Content-Security-Policy.
document.addEventListener("otp_webauthn.register_complete", function () {
  window.setTimeout(function () { window.location.reload(); }, 800);
});
