#!/usr/bin/env bash
# Measures a real `spinexr serve` process under hostile load (docs/serve-hardening.md, "Real process"):
# the key's whereabouts (argv, the decode helper's environment), the resident set with the models loaded, then with
# 4 concurrent bombs, 20 trickling uploads and 8 concurrent normal uploads at once, each client from its own
# loopback address (127.0.0.0/8), as separate machines would be, and the answers it gave.
# usage: scripts/serve-hostile-check.sh CLASSIFIER_RUN DETECTOR_RUN IMAGES_DIR [PORT]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cls=$1 det=$2 images=$3 port=${4:-5188}
dll="$root/src/SpineXR.Cli/bin/Release/net10.0/SpineXR.Cli.dll"
work=$(mktemp -d)
key=check-key-$RANDOM$RANDOM
B=http://127.0.0.1:$port
rss() { awk -v f="$1" '$1==f {print int($2/1024)}' /proc/$pid/status; }

dotnet "$dll" serve --classifier "$cls" --detector "$det" --urls "$B" --api-key "$key" --max-concurrency 2 --queue-length 8 \
  --decode-budget-mb 256 --access-log "$work/access.log" > "$work/serve.out" 2>&1 &
pid=$!
for i in $(seq 1 120); do curl -sf "$B/api/v1/health" > /dev/null && break; sleep 0.5; done
echo "serve pid $pid: $(head -2 "$work/serve.out" | tr '\n' ' ')"
if tr '\0' ' ' < /proc/$pid/cmdline | grep -q "$key"; then echo "KEY IN ARGV: $(tr '\0' ' ' < /proc/$pid/cmdline)"; else echo "argv after the allocator re-exec has no key: $(tr '\0' ' ' < /proc/$pid/cmdline | cut -c1-160)"; fi

H="X-Api-Key: $key"
first=$(ls "$images" | head -1)
curl -s -o /dev/null -w "first upload: %{http_code} in %{time_total} s\n" -H "$H" -H 'Content-Type: application/dicom' --data-binary @"$images/$first" "$B/api/v1/predict"
for f in $(ls "$images"); do curl -s -o /dev/null -H "$H" -H 'Content-Type: application/dicom' --data-binary @"$images/$f" "$B/api/v1/predict"; done
for c in $(pgrep -P $pid); do
  if tr '\0' '\n' < /proc/$c/environ | grep -q SPINEXR_API_KEY; then echo "KEY IN CHILD $c ENVIRONMENT"; else echo "decode helper $c ($(tr '\0' ' ' < /proc/$c/cmdline | cut -c1-80)): no key in its environment"; fi
done
idle=$(rss VmRSS:); echo 5 > /proc/$pid/clear_refs
echo "resident set with the models loaded, after $(ls "$images" | wc -l) uploads: $idle MiB"

fx="$root/tests/SpineXR.Web.Tests/Fixtures/Hostile"
start=$(date +%s.%N)
n=2
for b in bomb_j2k_16384.dcm bomb_jpeg_16384.dcm bomb_deflate_80mib.dcm lut_voi_ul_1500000000.dcm; do
  n=$((n + 1))
  curl -s --interface 127.0.0.$n -o "$work/$b.out" -w "%{http_code}\n" -H "$H" -H 'Content-Type: application/dicom' --data-binary @"$fx/$b" "$B/api/v1/predict" > "$work/$b.code" &
done
for i in $(seq 1 20); do
  ( { printf 'POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nX-Api-Key: %s\r\nContent-Type: application/dicom\r\nContent-Length: 60000000\r\n\r\n' $port "$key";
      for j in $(seq 1 100); do head -c 30 /dev/zero; sleep 0.1; done; } | timeout 15 curl -s --interface 127.0.0.$((10 + i)) telnet://127.0.0.1:$port > "$work/trickle$i.out" 2>/dev/null ) &
done
sleep 1
bombpeak=$(rss VmHWM:)
for i in $(seq 1 8); do
  f=$(ls "$images" | sed -n "$(( (i % $(ls "$images" | wc -l)) + 1 ))p")
  curl -s --interface 127.0.0.$((40 + i)) -o /dev/null -w "%{http_code} %{time_total}\n" -H "$H" -H 'Content-Type: application/dicom' --data-binary @"$images/$f" "$B/api/v1/predict" > "$work/normal$i.code" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
for j in $(jobs -p); do [ "$j" != "$pid" ] && wait "$j"; done 2>/dev/null
peak=$(rss VmHWM:)
echo "bombs: $(for b in bomb_j2k_16384.dcm bomb_jpeg_16384.dcm bomb_deflate_80mib.dcm lut_voi_ul_1500000000.dcm; do printf '%s=%s ' "${b%.dcm}" "$(cat "$work/$b.code")"; done)"
echo "tricklers: $(cat "$work"/trickle*.out | grep -c '^HTTP/1.1 408') of 20 read a 408 before curl's own timeout (the metrics below count the server's answers)"
echo "normal uploads (8 at once beside them, 2 running + 8 queue places): $(cat "$work"/normal*.code | awk '{print $1}' | sort | uniq -c | tr '\n' ' '); p50 $(cat "$work"/normal*.code | awk '$1==200{print $2}' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}') s, max $(cat "$work"/normal*.code | awk '$1==200{print $2}' | sort -n | tail -1) s"
echo "resident set: $idle MiB with the models; peak $bombpeak MiB once the 4 bombs were answered and the 20 tricklers were mid-body; peak $peak MiB with the 8 normal uploads too (decode budget 256 MiB); $(echo "$(date +%s.%N) - $start" | bc) s"
echo "health: $(curl -s "$B/api/v1/health")"
echo "access log: $(wc -l < "$work/access.log") lines; PHI check: $(grep -c -i -E 'HOSTILE|FIXTURE|\.dicom' "$work/access.log") lines naming the patient or a file"
echo "metrics: $(curl -s -H "$H" "$B/metrics" | grep -E '^spinexr_http_requests_total\{route="/api/v1/predict"' | tr '\n' ' ')"
kill -TERM $pid; wait $pid 2>/dev/null
rm -rf "$work"
