#!/usr/bin/env python3
"""Transcribe one file with faster-whisper; the reference side of scripts/bench-asr.sh.

    fw_transcribe.py AUDIO --model-dir CT2_DIR [--beam-size 5] [--threads 2]

Prints the transcript (segment texts joined by spaces) on stdout and one
machine-readable timing line on stderr:

    fw_timing import_s=0.250 load_s=0.912 transcribe_s=15.258 audio_s=362.85 rtf=0.0421

load_s is the model load (CTranslate2 reads and converts the weights);
transcribe_s covers decoding the audio file, features, encoder and beam
search, i.e. everything podbrief does after loading its model. The segment
generator is consumed inside the timed region because faster-whisper is
lazy: transcribe() alone returns before any decoding happens.
"""
import argparse
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("audio")
    p.add_argument("--model-dir", required=True, help="CTranslate2 Whisper model directory")
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--compute-type", default="int8")
    args = p.parse_args()

    t0 = time.perf_counter()
    # The import is timed apart: it is Python's start-up cost, not the model's,
    # so it is kept out of load_s (bench-asr.sh's process wall time still
    # includes it).
    from faster_whisper import WhisperModel

    t1 = time.perf_counter()
    model = WhisperModel(args.model_dir, device="cpu", compute_type=args.compute_type,
                         cpu_threads=args.threads)
    t2 = time.perf_counter()
    segments, info = model.transcribe(args.audio, beam_size=args.beam_size)
    texts = [seg.text.strip() for seg in segments]
    t3 = time.perf_counter()

    print(" ".join(t for t in texts if t))
    audio_s = float(getattr(info, "duration", 0.0) or 0.0)
    rtf = (t3 - t2) / audio_s if audio_s > 0 else float("nan")
    print(f"fw_timing import_s={t1 - t0:.3f} load_s={t2 - t1:.3f} transcribe_s={t3 - t2:.3f} "
          f"audio_s={audio_s:.2f} rtf={rtf:.4f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
