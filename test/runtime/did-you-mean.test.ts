import { describe, expect, it } from "vitest";
import { closestMatch, didYouMean } from "../../src/runtime/did-you-mean.js";

describe("did you mean", () => {
  const names = ["echo", "calculator", "system_info", "list_processes", "execute_command"];

  it("guesses a name one or two edits away, a swap of neighbours counting as one", () => {
    expect(closestMatch("echoo", names)).toBe("echo");
    expect(closestMatch("calcualtor", names)).toBe("calculator");
    expect(closestMatch("sytem_ifo", names)).toBe("system_info");
    expect(didYouMean("sever", ["server", "limits"])).toBe('; did you mean "server"?');
  });

  it("guesses nothing for a word far from every candidate", () => {
    expect(closestMatch("weather", names)).toBeUndefined();
    expect(closestMatch("ab", ["xy"])).toBeUndefined();
    // Two edits are too many for a short word.
    expect(closestMatch("root", ["boom"])).toBeUndefined();
    expect(closestMatch("ops", ["open"])).toBeUndefined();
    expect(didYouMean("nothing-here", names)).toBe("");
    expect(closestMatch("x".repeat(1_000_000), ["x"])).toBeUndefined();
  });

  it("breaks ties alphabetically, so the guess is stable", () => {
    expect(closestMatch("cat", ["cut", "bat", "car"])).toBe("bat");
    expect(closestMatch("echo_x", ["echo", "echo_y"])).toBe("echo_y");
  });
});
