// After a security key is registered (django-otp-webauthn's script sends "otp_webauthn.register_complete"), go on to
// the page named by data-after-security-key: the account's second factors, where recovery codes are offered.
document.addEventListener("otp_webauthn.register_complete", () => {
  const holder = document.querySelector("[data-after-security-key]");
  if (holder) window.location.assign(holder.dataset.afterSecurityKey);
});
