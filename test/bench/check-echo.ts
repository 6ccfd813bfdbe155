import { request } from "node:http";
import { callToolBody, jsonHeaders, type BenchTarget } from "./bench-targets.js";

/** Sends the benchmark call once and throws unless the answer is a 2xx, correct echo. */
export function checkEcho(url: string, target: BenchTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent: false, headers: { ...(target.headers ?? jsonHeaders) }, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          if (status < 200 || status > 299 || !target.isCorrectResponse(body)) {
            reject(new Error(`${target.label}: unexpected answer to the benchmark call: HTTP ${status} ${text}`));
          } else {
            resolve();
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${target.label}: no answer to the benchmark call`)));
    req.on("error", reject);
    req.end(target.body ?? callToolBody);
  });
}
