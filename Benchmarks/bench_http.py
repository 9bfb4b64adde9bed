#!/usr/bin/env python3
"""HTTP benchmark of `pruned serve` (issue 3), side by side in one run, loopback only.

    apt-get install -y wrk nginx-light curl
    swift build -c release --product pruned
    python3 Benchmarks/bench_http.py [--pruned .build/release/pruned] [--seconds 10] [--upload-mb 1024]

1. Small GETs: wrk, 64 connections, 2 threads, against `GET /jobs/{id}` of ours, and against
   `python3 -m http.server` and nginx serving a file of the same size as that job's JSON.
   Prints requests/s and p99 latency, and our ratios to each.
2. Upload: a body of --upload-mb MiB POSTed by curl as a raw model to ours (streamed to disk,
   becomes a job that fails fast: it is not a model), against curl into a plain TCP sink on
   loopback (Benchmarks/tcp_sink.c, compiled with cc: reads and discards). Prints MB/s and the ratio.
3. Memory: our server's peak RSS (VmHWM) before and after a 300 MiB multipart upload.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, int(errors.group(1)) if errors else 0


def vmhwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def curl_upload(url, path, content_type):
    # -T streams the file (--data-binary would read it all into memory first).
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{speed_upload} %{http_code}", "-H", f"Content-Type: {content_type}",
                        "-X", "POST", "-T", path, url], capture_output=True, text=True)
    out = p.stdout.split()
    if len(out) < 2:
        sys.exit(f"curl upload to {url} failed: {p.stderr.strip()}")
    return float(out[0]) / 1e6, out[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--upload-mb", type=int, default=1024)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-http-")
    os.chmod(work, 0o755)  # nginx's workers run as nobody
    procs = []
    try:
        port = free_port()
        ours = subprocess.Popen([args.pruned, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir",
                                 os.path.join(work, "data"), "--max-upload-bytes", str(4 << 30)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(ours)
        wait_port(port)
        model = os.path.join(work, "net.onnx")
        subprocess.run([args.pruned, "example-model", "--arch", "resnet", "--out", model], check=True, capture_output=True)
        job = json.loads(subprocess.run(["curl", "-s", "-F", f"model=@{model}", f"http://127.0.0.1:{port}/jobs"],
                                        capture_output=True, text=True).stdout)
        time.sleep(1)
        body = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/jobs/{job['id']}"], capture_output=True).stdout
        static = os.path.join(work, "static")
        os.makedirs(static)
        open(os.path.join(static, "job.json"), "wb").write(body)

        py_port = free_port()
        procs.append(subprocess.Popen([sys.executable, "-m", "http.server", str(py_port), "--bind", "127.0.0.1", "--directory", static],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ng_port = free_port()
        conf = os.path.join(work, "nginx.conf")
        open(conf, "w").write(f"""daemon off; worker_processes auto; pid {work}/nginx.pid; error_log {work}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{ng_port}; root {static}; }}
  client_body_temp_path {work}/ngt; proxy_temp_path {work}/ngp; fastcgi_temp_path {work}/ngf; uwsgi_temp_path {work}/ngu; scgi_temp_path {work}/ngs; }}
""")
        procs.append(subprocess.Popen(["nginx", "-c", conf, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(py_port)
        wait_port(ng_port)

        print(f"small GETs: wrk -t2 -c64 -d{args.seconds}s, body {len(body)} bytes")
        results = {}
        for name, url in [("pruned", f"http://127.0.0.1:{port}/jobs/{job['id']}"),
                          ("python http.server", f"http://127.0.0.1:{py_port}/job.json"),
                          ("nginx", f"http://127.0.0.1:{ng_port}/job.json")]:
            results[name] = wrk(url, args.seconds)
            rps, p99, errs = results[name]
            print(f"  {name:20s} {rps:10.0f} req/s   p99 {p99:8.2f} ms   non-2xx {errs}")
        r = results["pruned"]
        for other in ("python http.server", "nginx"):
            o = results[other]
            print(f"  pruned / {other}: throughput {r[0] / o[0]:.2f}x, p99 {r[1] / o[1]:.2f}x")

        blob = os.path.join(work, "blob.bin")
        with open(blob, "wb") as f:
            f.truncate(args.upload_mb << 20)
        sink_port = free_port()
        sink = os.path.join(work, "tcp_sink")
        subprocess.run(["cc", "-O2", "-o", sink, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_sink.c")], check=True)
        procs.append(subprocess.Popen([sink, str(sink_port)]))
        wait_port(sink_port)
        sink_mbs, _ = curl_upload(f"http://127.0.0.1:{sink_port}/", blob, "application/octet-stream")
        ours_mbs, code = curl_upload(f"http://127.0.0.1:{port}/jobs?filename=blob.onnx", blob, "application/octet-stream")
        print(f"upload of {args.upload_mb} MiB: pruned {ours_mbs:.0f} MB/s (HTTP {code}), TCP sink {sink_mbs:.0f} MB/s, ratio {ours_mbs / sink_mbs:.2f}")

        before = vmhwm(ours.pid)
        big = os.path.join(work, "big.onnx")
        with open(big, "wb") as f:
            f.truncate(300 << 20)
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-F", f"model=@{big}", f"http://127.0.0.1:{port}/jobs"], check=True)
        after = vmhwm(ours.pid)
        print(f"300 MiB multipart upload: server peak RSS {before:.0f} MiB before, {after:.0f} MiB after (grew {after - before:.0f} MiB)")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
