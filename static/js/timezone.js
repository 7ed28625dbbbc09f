// Tells the server the browser's time zone (cookie pc_tz), so pages show local times for
// users who have not chosen one in their profile (partnercenter.middleware.TimeZoneMiddleware).
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || document.cookie.indexOf("pc_tz=" + encodeURIComponent(zone)) !== -1) {
    return;
  }
  document.cookie = "pc_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
})();
