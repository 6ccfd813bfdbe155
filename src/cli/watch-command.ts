import { toJsonString } from "@bufbuild/protobuf";
import { InvalidArgumentError, type Command } from "commander";
import { EventSchema, EventType, ServerStatus, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { ConnectionStatusChange } from "../client/event-watcher.js";
import { CliExit, cliAction, exitCodes, exitCodesHelp, exitForRpcError } from "./exit-codes.js";
import { addRemoteOptions, createRemoteClient, type RemoteFlags } from "./remote-options.js";

/** Flags of `toolwire watch`. */
interface WatchFlags extends RemoteFlags {
  types?: EventType[];
  tools?: string[];
  after?: bigint;
  count?: number;
}

/** Event type names as the CLI and the server's events spell them ("tool_called"), by number. */
const typeNames = new Map<EventType, string>(
  Object.values(EventType)
    .filter((v): v is EventType => typeof v === "number" && v !== EventType.UNSPECIFIED)
    .map((v) => [v, EventType[v].toLowerCase()]),
);
const typesByName = new Map([...typeNames].map(([type, name]) => [name, type]));

const examples = `
Examples:
  toolwire watch
  toolwire watch --types tool_failed,tool_denied,rate_limited
  toolwire watch --tools echo,calculator --json
  toolwire watch --after 0 --count 20       # replay what the server still holds

One line per event: #12 tool_succeeded echo@1.0.0 caller=anonymous 1.2ms
(--json: one JSON object per line). Once connected it says so on stderr; heartbeats are not printed. A dropped stream reconnects by
itself and resumes after the last event printed, saying so on stderr. Ctrl-C or SIGTERM stops
watching and exits 0. Event types: ${[...typesByName.keys()].join(", ")}.

${exitCodesHelp}`;

/** Parses a comma-separated list, adding to what earlier uses of the flag gave. */
function list<T>(parse: (item: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [
    ...(previous ?? []),
    ...value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "")
      .map(parse),
  ];
}

function eventType(name: string): EventType {
  const type = typesByName.get(name.toLowerCase());
  if (type === undefined) throw new InvalidArgumentError(`unknown event type "${name}"; use ${[...typesByName.keys()].join(", ")}`);
  return type;
}

function sequence(value: string): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) > 0xffffffffffffffffn) throw new InvalidArgumentError("expected an event sequence number (0 replays all the server holds)");
  return BigInt(value);
}

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

/** Adds `toolwire watch`: print a server's live events, filtered, until stopped. */
export function registerWatchCommand(program: Command): void {
  const command = program
    .command("watch")
    .description("print a running server's events as they happen (calls, failures, denials, registrations)")
    .option("--types <types>", "only these event types, comma-separated (repeatable)", list(eventType))
    .option("--tools <names>", "only events of these tools, comma-separated (repeatable)", list((name) => name))
    .option("--after <sequence>", "first replay the events the server still holds after this sequence", sequence)
    .option("--count <n>", "exit 0 after printing this many events", count);
  addRemoteOptions(command, { timeout: false })
    .addHelpText("after", examples)
    .action(cliAction("watch", (flags: WatchFlags) => watchEvents(flags)));
}

async function watchEvents(flags: WatchFlags): Promise<void> {
  const [client, { createEventWatcher }] = await Promise.all([createRemoteClient(flags), import("../client/event-watcher.js")]);
  let printed = 0;
  let everConnected = false;
  let settle!: (exit: CliExit | undefined) => void;
  const done = new Promise<CliExit | undefined>((resolve) => (settle = resolve));

  const watcher = createEventWatcher(
    client.connectTransport,
    {
      onEvent(event) {
        if (flags.count !== undefined && printed >= flags.count) return;
        process.stdout.write(`${flags.json === true ? toJsonString(EventSchema, event) : formatEvent(event)}\n`);
        printed++;
        if (flags.count !== undefined && printed >= flags.count) settle(undefined);
      },
      onConnectionStatus(change) {
        onStatus(change);
      },
      onGap(gap) {
        const after = gap.afterSequence === undefined ? "the start" : `#${gap.afterSequence}`;
        process.stderr.write(`toolwire watch: events after ${after} were lost (${gap.error.rawMessage}); going on with what the server holds\n`);
      },
    },
    { types: flags.types, tools: flags.tools, afterSequence: flags.after },
  );

  function onStatus(change: ConnectionStatusChange): void {
    switch (change.status) {
      case "connected":
        // Quiet streams are normal: say once that nothing printed yet means nothing happened yet.
        if (everConnected) process.stderr.write("toolwire watch: reconnected\n");
        else process.stderr.write(`toolwire watch: watching events on ${flags.url.replace(/\/+$/, "")}; waiting for events (Ctrl-C to stop)\n`);
        everConnected = true;
        break;
      case "reconnecting":
        // Never connected at all: the server is not there, which is worth an exit, not a wait.
        if (!everConnected) settle(exitForRpcError(change.error, flags.url));
        else {
          const seconds = ((change.delayMs ?? 0) / 1000).toFixed(1);
          process.stderr.write(`toolwire watch: lost the event stream (${change.error?.rawMessage ?? "closed"}); reconnecting in ${seconds}s\n`);
        }
        break;
      case "failed":
        settle(exitForRpcError(change.error, flags.url));
        break;
      default:
        break;
    }
  }

  const stop = () => settle(undefined);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // A reader that went away (`toolwire watch | head -3`) ends the watch quietly.
  const onStdoutError = (err: NodeJS.ErrnoException) => settle(err.code === "EPIPE" ? undefined : new CliExit(exitCodes.failed, `cannot write: ${err.message}`));
  process.stdout.on("error", onStdoutError);
  watcher.start();
  const exit = await done;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  process.stdout.off("error", onStdoutError);
  // Not awaited inside a listener callback: stopping waits for the callbacks to finish.
  await watcher.stop();
  await client.disconnect();
  if (exit !== undefined) throw exit;
}

/** One event as a line: `#12 tool_succeeded echo@1.0.0 caller=anonymous 1.2ms`. */
export function formatEvent(event: Event): string {
  const parts = [`#${event.sequence}`, typeNames.get(event.type) ?? `type_${event.type}`];
  if (event.toolName !== "") parts.push(event.toolVersion === "" ? event.toolName : `${event.toolName}@${event.toolVersion}`);
  if (event.type === EventType.SERVER_STATUS) parts.push((ServerStatus[event.status] ?? "unknown").toLowerCase());
  if (event.callerId !== "") parts.push(`caller=${event.callerId}`);
  if (event.code !== "" && event.code !== "ok") parts.push(`code=${event.code}`);
  if (event.duration !== undefined) parts.push(formatDuration(Number(event.duration.seconds) * 1000 + event.duration.nanos / 1e6));
  if (event.message !== "") parts.push(JSON.stringify(event.message));
  return parts.join(" ");
}

function formatDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  return ms >= 100 ? `${Math.round(ms)}ms` : `${ms.toFixed(1)}ms`;
}
