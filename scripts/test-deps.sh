#!/usr/bin/env bash
# Installs the Debian tools the tests use, when they are missing: openssl, curl, nginx,
# prometheus (the server and promtool), Chromium (the dashboard tests) and the web servers
# whose install guides the dashboard tests follow (Apache httpd, HAProxy, Caddy).
set -euo pipefail
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ -x /usr/bin/caddy ] || missing+=(caddy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages' own services are not used by the tests; each test starts its own.
  for service in nginx prometheus apache2 haproxy caddy; do $SUDO service "$service" stop >/dev/null 2>&1 || true; done
fi
