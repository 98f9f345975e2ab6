// Tell the server the browser's time zone (approvals/zones.py reads the cookie);
// the person's profile, when it names a zone, wins over it.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
    return;
  }
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie =
    "signoff_tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
})();
