import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { Express } from "express";
import type { Config } from "./config.js";

export interface Listeners {
  /** The server answering the app (HTTPS with TLS configured, else HTTP). */
  main: http.Server;
  /** The plain-HTTP listener that redirects to HTTPS, when `HTTP_PORT` is set. */
  redirect?: http.Server;
}

/** Redirects every request to the same path on the HTTPS port (HSTS only means something behind this). */
function redirectToHttps(httpsPort: number): http.RequestListener {
  return (req, res) => {
    const host = (req.headers.host ?? "localhost").replace(/:\d+$/, "").replace(/[^\w.[\]:-]/g, "");
    const port = httpsPort === 443 ? "" : `:${httpsPort}`;
    res.writeHead(301, { Location: `https://${host}${port}${req.url ?? "/"}`, "Content-Length": 0 });
    res.end();
  };
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/** Starts the app's listener(s); resolves with the servers and the ports they bound. */
export async function serve(app: Express, config: Config): Promise<Listeners & { port: number; httpPort?: number }> {
  const main = config.tls
    ? https.createServer({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }, app)
    : http.createServer(app);
  // Keep-alive longer than a typical load balancer's idle timeout, so the balancer closes first.
  main.keepAliveTimeout = 65_000;
  main.headersTimeout = 66_000;
  const port = await listen(main, config.port);
  if (config.httpPort === undefined) return { main, port };
  const redirect = http.createServer(redirectToHttps(port));
  const httpPort = await listen(redirect, config.httpPort);
  return { main, redirect, port, httpPort };
}
