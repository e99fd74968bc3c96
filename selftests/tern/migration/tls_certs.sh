#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Test credentials for TLS migrations, made with certtool (gnutls-bin):
#   OUT/good/     ca-cert.pem, server-{cert,key}.pem (localhost, 127.0.0.1,
#                 ::1), client-{cert,key}.pem
#   OUT/expired/  the same CA, server and client pairs that expired in 2021
#   OUT/rogue/    another CA and its own pairs (untrusted by good/)
#   OUT/stranger/ the good CA, a client pair from the rogue CA
#   OUT/elsewhere/  the good CA and client pair, a server certificate for
#                 another host name
#   OUT/psk-a, OUT/psk-b  one identity, two different keys
# ECDSA P-256 keys: quick to make, and TLS 1.3 takes them.
set -euo pipefail

OUT=${1:?usage: tls_certs.sh OUTDIR}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

key() { certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$1" 2>/dev/null; chmod 600 "$1"; }

# ca DIR NAME: a self-signed CA in DIR/ca-cert.pem, its key beside it.
ca() {
	mkdir -p "$1"
	key "$1/ca-key.pem"
	printf 'cn = "%s"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 3650\n' \
		"$2" >"$T/ca.tmpl"
	certtool --generate-self-signed --load-privkey "$1/ca-key.pem" \
		--template "$T/ca.tmpl" --outfile "$1/ca-cert.pem" 2>/dev/null
}

# pair DIR CADIR ROLE DATES: DIR/ROLE-{cert,key}.pem signed by CADIR's CA.
pair() {
	local dir=$1 cadir=$2 role=$3 dates=$4
	key "$dir/$role-key.pem"
	{
		if [[ $role == elsewhere ]]; then
			printf 'cn = "elsewhere.example"\ndns_name = "elsewhere.example"\ntls_www_server\n'
		elif [[ $role == server ]]; then
			printf 'cn = "localhost"\ndns_name = "localhost"\n'
			printf 'ip_address = "127.0.0.1"\nip_address = "::1"\ntls_www_server\n'
		else
			printf 'cn = "tern-source"\ntls_www_client\n'
		fi
		printf 'signing_key\n%b' "$dates"
	} >"$T/$role.tmpl"
	certtool --generate-certificate --load-privkey "$dir/$role-key.pem" \
		--load-ca-certificate "$cadir/ca-cert.pem" \
		--load-ca-privkey "$cadir/ca-key.pem" \
		--template "$T/$role.tmpl" --outfile "$dir/$role-cert.pem" 2>/dev/null
}

rm -rf "$OUT"
mkdir -p "$OUT/expired"
VALID='expiration_days = 3650\n'
PAST='activation_date = "2020-01-01 00:00:00"\nexpiration_date = "2021-01-01 00:00:00"\n'

ca "$OUT/good" "Tern test CA"
pair "$OUT/good" "$OUT/good" server "$VALID"
pair "$OUT/good" "$OUT/good" client "$VALID"
cp "$OUT/good/ca-cert.pem" "$OUT/expired/"
pair "$OUT/expired" "$OUT/good" server "$PAST"
pair "$OUT/expired" "$OUT/good" client "$PAST"
mkdir -p "$OUT/elsewhere"
cp "$OUT/good/ca-cert.pem" "$OUT/good/client-cert.pem" "$OUT/good/client-key.pem" "$OUT/elsewhere/"
pair "$OUT/elsewhere" "$OUT/good" elsewhere "$VALID"
mv "$OUT/elsewhere/elsewhere-cert.pem" "$OUT/elsewhere/server-cert.pem"
mv "$OUT/elsewhere/elsewhere-key.pem" "$OUT/elsewhere/server-key.pem"
ca "$OUT/rogue" "Somebody else's CA"
pair "$OUT/rogue" "$OUT/rogue" server "$VALID"
pair "$OUT/rogue" "$OUT/rogue" client "$VALID"
# Trusts the good CA, but its own client pair comes from the rogue one.
mkdir -p "$OUT/stranger"
cp "$OUT/good/ca-cert.pem" "$OUT/stranger/"
pair "$OUT/stranger" "$OUT/rogue" client "$VALID"
# A CA's key is not a credential of a host.
rm "$OUT/good/ca-key.pem" "$OUT/rogue/ca-key.pem"

(umask 077
 echo "tern:$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$OUT/psk-a"
 echo "tern:$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$OUT/psk-b")
