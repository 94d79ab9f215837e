// An analyzer on the wire: one HL7 v2 message over MLLP (<VT> message <FS><CR>) to the server's listener on
// loopback, and the acknowledgement it answers (after its commit), as text.
import { connect } from "node:net";

export function sendMllp(port, message, { timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("no MLLP acknowledgement")); }, timeoutMs);
    socket.on("connect", () => socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(message, "utf8"),
      Buffer.from([0x1c, 0x0d])])));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(0x1c);
      if (end >= 0) {
        clearTimeout(timer);
        socket.end();
        resolve(received.subarray(1, end).toString("utf8"));
      }
    });
    socket.on("error", (error) => { clearTimeout(timer); reject(error); });
  });
}

/** An ORU^R01 as a chemistry analyzer (the test partner BIO1) sends one result for a tube. */
export function oru(accession, code, value, unit) {
  const id = `WB${Date.now()}${Math.floor(Math.random() * 1000)}`;
  return [`MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|${id}|P|2.5|||||FRA|UNICODE UTF-8`,
    `OBR|1||${accession}|GLY^Glycémie`,
    `OBX|1|NM|${code}^${code}||${value}|${unit}|||||F|||||||BIO1|20261126101200+0100`, ""].join("\r");
}
