#!/usr/bin/env python3
"""Sends N small messages over one SMTP connection and reports throughput and latency.

usage: smtp_load.py PORT COUNT [--unique TAG]
Prints one JSON object: count, seconds, rate (msg/s), p50/p90/p99 per-message latency (ms,
MAIL FROM to the 250 after DATA). Loopback only.
"""
import json
import smtplib
import sys
import time
from email.header import Header

BODY = (
    "各位同事：\r\n"
    "本周五下午三点在三楼会议室召开项目进度会议，请各组负责人准备好本周工作总结和下周计划，"
    "并提前将材料发到项目邮箱。会议预计一个小时，如有冲突请提前告知。\r\n"
    "谢谢！\r\n"
    "行政部\r\n"
)


def message(i, tag):
    subject = Header(f"项目进度会议通知 {tag} {i}", "utf-8").encode()
    return (
        "From: Bench Sender <bench@example.net>\r\n"
        "To: user@example.com\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <bench-{tag}-{i}@example.net>\r\n"
        "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n" + BODY
    ).encode("utf-8")


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2])
    tag = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--unique" else "x"
    msgs = [message(i, tag) for i in range(count)]
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("bench.example.net")
    lat = []
    failures = 0
    start = time.perf_counter()
    for m in msgs:
        t = time.perf_counter()
        try:
            s.sendmail("bench@example.net", ["user@example.com"], m)
        except smtplib.SMTPException:
            failures += 1
            s.rset()
        lat.append((time.perf_counter() - t) * 1000.0)
    seconds = time.perf_counter() - start
    s.quit()
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(len(lat) * p))], 3)

    print(json.dumps({
        "count": count,
        "failures": failures,
        "seconds": round(seconds, 3),
        "rate": round(count / seconds, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
    }))


if __name__ == "__main__":
    main()
