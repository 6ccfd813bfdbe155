/**
 * Parses JSON text like JSON.parse, but a syntax error says where by line and column
 * (`line 3, column 9: Unexpected token ','`), as an editor would: Node's own message gives a
 * character offset at best, and for an unexpected token not even that.
 */
export function parseJson(text: string): unknown {
  // Editors on Windows save UTF-8 with a byte order mark; it is not part of the JSON.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    const message = (err as Error).message;
    const offset = errorOffset(body, message);
    const reason = message
      .replace(/, (\.\.\.)?".*" is not valid JSON$/su, "")
      .replace(/ in JSON at position \d+.*$/su, "")
      .replace(/ \(line \d+ column \d+\)$/, "");
    throw new SyntaxError(offset === undefined ? reason : `${lineAndColumn(body, offset)}: ${reason}`);
  }
}

/** Where the parser stopped: Node's position, the end for a truncated text, or a search for an unexpected token. */
function errorOffset(text: string, message: string): number | undefined {
  const position = / at position (\d+)/.exec(message);
  if (position !== null) return Number(position[1]);
  if (message.includes("end of JSON input")) return text.length;
  const token = /^Unexpected token '.'/su.exec(message)?.[0];
  if (token === undefined) return undefined;
  // Every prefix that reaches the token fails with the same message, every shorter one
  // otherwise: the shortest such prefix ends just after it.
  let low = 1;
  let high = text.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (failsWith(text.slice(0, mid), token)) high = mid;
    else low = mid + 1;
  }
  return low - 1;
}

function failsWith(text: string, prefix: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (err) {
    return (err as Error).message.startsWith(prefix);
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return `line ${line}, column ${column}`;
}
