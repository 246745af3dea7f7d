#!/usr/bin/env sh
# A self-signed certificate for trying deploy/compose.yaml on localhost (not for production).
set -eu
cd "$(dirname "$0")"
mkdir -p certs
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout certs/tls.key -out certs/tls.crt
chmod 600 certs/tls.key
