"""Benchmark of MSSanté sending: CR-Bio mails per second to the local operator, beside the document rate.

    .venv/bin/python bench/mssante.py [--mails 40] [--docs 5]

In one run, on loopback, with a throw-away PKI and CRL:
  1. the CR-Bio of the 30-result dossier of bench/documents.py generated without the validator (the
     document rate the mails have to keep up with);
  2. the mail built from it (IHE_XDM.ZIP + PDF/A, headers): build only;
  3. the built mail submitted to the simulated operator by the production client, one mutual-TLS
     connection per mail (as the channel does), sequentially: revocation by CRL, then by OCSP (the
     simulator's responder asked once per connection, no CRL).
Prints medians, rates, the ratios to (1) and the machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facades.mssante import ReportMail, build_message  # noqa: E402
from facades.mssante.simulator import OcspResponder, start_operator  # noqa: E402
from server.documents.compose import Version  # noqa: E402
from server.documents.generate import Documents, generate  # noqa: E402
from tests.support.mssante import SENDER, client_for, operator_pki  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from documents import dossier  # noqa: E402


def _mail(docs: Documents, n: int) -> ReportMail:
    return ReportMail(to=(f"medecin{n}@cabinet.mssante.fr",), subject="XDM/1.0/DDM+Compte rendu d'examens biologiques",
                      body="Veuillez trouver ci-joint le compte rendu.", n3=docs.n3, pdf=docs.pdf,
                      pdf_name=docs.pdf_name)


async def _send_all(docs: Documents, mails: int, directory: Path) -> tuple[list[float], list[float]]:
    """Submission times (ms) with the CRL, then with OCSP only."""
    ops = operator_pki(directory)
    operator = await start_operator("127.0.0.1", ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert,
                                    bal=SENDER.address, ocsp=OcspResponder(ops.pki.ca.cert, ops.pki.ca.key, ops.crl))
    clients = (client_for(ops, operator.smtp_port, operator.imap_port),
               client_for(ops, operator.smtp_port, operator.imap_port, crls=(), ocsp=operator.ocsp_url))
    samples: tuple[list[float], list[float]] = ([], [])
    try:
        for client, times in zip(clients, samples, strict=True):
            for n in range(mails):
                message = build_message(_mail(docs, n), SENDER)
                start = time.perf_counter()
                await client.send(message)
                times.append((time.perf_counter() - start) * 1000)
        assert len(operator.boxes.messages()) == 2 * mails
    finally:
        await operator.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=40)
    parser.add_argument("--docs", type=int, default=5)
    args = parser.parse_args()
    data = dossier()
    doc_ms = []
    for _ in range(args.docs):
        start = time.perf_counter()
        docs = generate(data, Version(1), check=False)
        doc_ms.append((time.perf_counter() - start) * 1000)
    build_ms = []
    for n in range(args.mails):
        start = time.perf_counter()
        build_message(_mail(docs, n), SENDER).as_bytes()
        build_ms.append((time.perf_counter() - start) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        send_ms, ocsp_ms = asyncio.run(_send_all(docs, args.mails, Path(tmp)))
    doc, build, send, ocsp = (statistics.median(x) for x in (doc_ms, build_ms, send_ms, ocsp_ms))
    out = sys.stdout.write
    out(f"load average {os.getloadavg()[0]:.2f}; N3 {len(docs.n3)} B, PDF {len(docs.pdf)} B\n")
    out(f"CR-Bio generation (no validator): median {doc:.0f} ms, {1000 / doc:.1f} reports/s (baseline)\n")
    out(f"mail build (XDM zip + MIME):      median {build:.1f} ms, {1000 / build:.0f} mails/s, "
          f"ratio {build / doc:.3f} of a report\n")
    out(f"mail submitted over mutual TLS:   median {send:.1f} ms, {1000 / send:.0f} mails/s, "
          f"ratio {send / doc:.3f} of a report (p95 {sorted(send_ms)[int(len(send_ms) * 0.95) - 1]:.1f} ms)\n")
    out(f"same, revocation by OCSP:         median {ocsp:.1f} ms, {1000 / ocsp:.0f} mails/s, "
          f"ratio {ocsp / doc:.3f} of a report (p95 {sorted(ocsp_ms)[int(len(ocsp_ms) * 0.95) - 1]:.1f} ms)\n")


if __name__ == "__main__":
    main()
