import { describe, expect, it } from "vitest";
import type { CalculatorInput } from "../../gen/tools/calculator.js";
import { ToolError } from "../../src/registry/tool-result.js";
import { calculator } from "../../src/tools/calculator.js";
import { runTool } from "../helpers/run-tool.js";
import { inputValidator, outputValidator } from "../helpers/tool-schemas.js";

const validateInput = inputValidator(calculator);
const validateOutput = outputValidator(calculator);

describe("calculator", () => {
  it.each<[CalculatorInput, number[], number]>([
    [{ operation: "add", a: 2, b: 3 }, [2, 3], 5],
    [{ operation: "subtract", a: 2, b: 3.5 }, [2, 3.5], -1.5],
    [{ operation: "multiply", a: -4, b: 2.5 }, [-4, 2.5], -10],
    [{ operation: "divide", a: 7, b: 2 }, [7, 2], 3.5],
    [{ operation: "power", a: 2, b: 10 }, [2, 10], 1024],
    [{ operation: "power", a: 4, b: -0.5 }, [4, -0.5], 0.5],
    [{ operation: "sqrt", a: 81 }, [81], 9],
  ])("computes %j", async (input, operands, result) => {
    const output = await runTool(calculator, input);
    expect(output).toEqual({ operation: input.operation, operands, result });
    expect(validateOutput(output).message).toBe("");
  });

  it("ignores b for sqrt", async () => {
    expect(await runTool(calculator, { operation: "sqrt", a: 2.25, b: 99 })).toEqual({ operation: "sqrt", operands: [2.25], result: 1.5 });
  });

  it("refuses division by zero", async () => {
    await expect(runTool(calculator, { operation: "divide", a: 1, b: 0 })).rejects.toThrow(new ToolError("division by zero (1 / 0)"));
  });

  it("refuses the square root of a negative number", async () => {
    const call = runTool(calculator, { operation: "sqrt", a: -4 });
    await expect(call).rejects.toBeInstanceOf(ToolError);
    await expect(call).rejects.toThrow(/square root of a negative number \(-4\)/);
  });

  it.each<[CalculatorInput]>([
    [{ operation: "multiply", a: 1e308, b: 10 }],
    [{ operation: "add", a: 1.7e308, b: 1.7e308 }],
    [{ operation: "power", a: 10, b: 400 }],
    [{ operation: "divide", a: 1e308, b: 1e-10 }],
  ])("refuses a result that overflows: %j", async (input) => {
    const call = runTool(calculator, input);
    await expect(call).rejects.toBeInstanceOf(ToolError);
    await expect(call).rejects.toThrow(/overflows/);
  });

  it("refuses a power that is not a real number", async () => {
    await expect(runTool(calculator, { operation: "power", a: -8, b: 1 / 3 })).rejects.toThrow(/is not a real number/);
  });

  it("refuses a missing b when called without validation", async () => {
    await expect(runTool(calculator, { operation: "add", a: 1 })).rejects.toThrow(/needs a second operand b/);
  });

  describe("input schema", () => {
    it("accepts sqrt without b", () => {
      expect(validateInput({ operation: "sqrt", a: 4 }).valid).toBe(true);
    });

    it.each(["add", "subtract", "multiply", "divide", "power"])("requires b for %s", (operation) => {
      const result = validateInput({ operation, a: 1 });
      expect(result.valid).toBe(false);
      expect(result.violations).toContainEqual({ pointer: "/b", keyword: "required", message: "is required" });
    });

    it("rejects an unknown operation, a non-number operand and unknown properties", () => {
      expect(validateInput({ operation: "modulo", a: 1, b: 2 }).message).toMatch(/\/operation: must be one of/);
      expect(validateInput({ operation: "add", a: "1", b: 2 }).message).toMatch(/\/a: must be number/);
      expect(validateInput({ operation: "add", a: 1, b: 2, c: 3 }).message).toMatch(/\/c: is not allowed/);
    });
  });
});
