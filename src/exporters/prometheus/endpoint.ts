/**
 * The `/metrics` HTTP server around OpenTelemetry's PrometheusExporter.
 *
 * We create the exporter with `preventServerStart` and listen ourselves because the exporter cannot
 * do what we need: it turns port 0 into 9464 (`config.port || env || 9464`), rejects its start
 * promise without telling us the port it got, and falls back to `OTEL_EXPORTER_PROMETHEUS_*`
 * behind our back. Serialization stays the exporter's (`getMetricsRequestHandler`).
 *
 * Like the exporter's own server, ours is `unref()`'d: an open endpoint never keeps a finished
 * training process alive. A caller that wants the endpoint to outlive the run (the demo's
 * `--serve SECONDS`) must hold the process open itself, e.g. with a timer.
 */
import type { HttpRoutes } from '../../pipeline/sink-definition.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import { METRICS_PATH } from './options.js';
import { hostAllowed } from '../../net/host-allowed.js';

export interface EndpointOptions {
  /** Keep `otel_scope_name`/`otel_scope_version` labels on every series (doubles the bytes). */
  withScopeInfo: boolean;
  /** Extra sources merged into every scrape, e.g. LastValueGauges. */
  metricProducers?: MetricProducer[];
  /** Asked for every path but /metrics before the 404. */
  routes?: HttpRoutes;
}

export type { HttpRoutes } from '../../pipeline/sink-definition.js';

export type ListenResult = { ok: true; port: number } | { ok: false; error: NodeJS.ErrnoException };

export class PrometheusEndpoint extends PrometheusExporter {
  private readonly server: Server;
  private closed: Promise<void> | undefined;
  private readonly routes: HttpRoutes | undefined;
  private readonly closedHooks: Array<() => Promise<void>> = [];
  private bindHost = '127.0.0.1';

  constructor(options: EndpointOptions) {
    super({
      preventServerStart: true,
      withoutScopeInfo: !options.withScopeInfo,
      metricProducers: options.metricProducers,
    });
    this.routes = options.routes;
    this.server = createServer(this.route).unref();
  }

  /** Starts listening. Never rejects: a failure (EADDRINUSE, EACCES...) comes back as a value. */
  listen(host: string, port: number): Promise<ListenResult> {
    this.bindHost = host;
    return new Promise((resolve) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        this.server.off('listening', onListening);
        resolve({ ok: false, error });
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        resolve({ ok: true, port: (this.server.address() as AddressInfo).port });
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host, port, exclusive: true });
    });
  }

  /** Called after the server listened: later socket errors must not crash the process. */
  onServerError(handler: (error: NodeJS.ErrnoException) => void): void {
    this.server.on('error', handler);
  }

  /** Runs once the server has closed (removing this rank's file_sd entry). */
  onClosed(hook: () => Promise<void>): void {
    this.closedHooks.push(hook);
  }

  override async onShutdown(): Promise<void> {
    // The exporter's own, never-started server answers ERR_SERVER_NOT_RUNNING, which it ignores.
    await super.onShutdown();
    await this.closeServer();
    for (const hook of this.closedHooks.splice(0)) await hook();
  }

  private closeServer(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
      // Scrapers hold keep-alive connections; without this, close() waits for them to time out.
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  private readonly route = (request: IncomingMessage, response: ServerResponse): void => {
    // Every route, /metrics included: a DNS-rebinding page must not read training metrics.
    if (!hostAllowed(request, this.bindHost)) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(
        `this server is bound to ${this.bindHost} and answers only Host localhost, 127.0.0.1, [::1] or ${this.bindHost}; ` +
          'bind prometheusHost to a non-loopback address to let other machines scrape it\n',
      );
      return;
    }
    const path = (request.url ?? '').split('?', 1)[0];
    if (path === METRICS_PATH) {
      this.getMetricsRequestHandler(request, response);
      return;
    }
    if (this.routes?.(request, response) === true) return;
    response.statusCode = 404;
    response.end();
  };
}
