#!/usr/bin/env bash
# Makes every prompt listed in prompts.txt: espeak-ng speaks the words, sox
# turns them into 16-bit PCM, mono, 8 kHz WAV (`apt-get install espeak-ng
# sox`). Run from anywhere; it writes NAME.wav beside this script.
set -euo pipefail
cd "$(dirname "$0")"
grep -v '^#' prompts.txt | while IFS='|' read -r name voice words; do
  name=$(echo "$name" | xargs)
  voice=$(echo "$voice" | xargs)
  espeak-ng -v "$voice" -s 180 -w "/tmp/prompt-$$.wav" "$words"
  # Trim the silence at both ends and normalise to -1 dBFS (no clipping).
  sox "/tmp/prompt-$$.wav" -r 8000 -c 1 -b 16 -e signed-integer "$name.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse gain -n -1
done
rm -f "/tmp/prompt-$$.wav"
# The tone before a voicemail message: 1 kHz for 400 ms.
sox -n -r 8000 -c 1 -b 16 -e signed-integer beep.wav synth 0.4 sine 1000 gain -6
