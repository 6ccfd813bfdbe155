import { calculatorTool, type CalculatorInput, type CalculatorOutput } from "../../gen/tools/calculator.js";
import { defineTool } from "../registry/define-tool.js";
import { ToolError } from "../registry/tool-result.js";

/** The `calculator` tool: one arithmetic operation, refusing results that are not finite numbers. */
export const calculator = defineTool(calculatorTool, (input): CalculatorOutput => calculate(input));

function calculate(input: CalculatorInput): CalculatorOutput {
  const { operation, a } = input;
  if (operation === "sqrt") {
    if (a < 0) throw new ToolError(`cannot take the square root of a negative number (${a})`);
    return { operation, operands: [a], result: Math.sqrt(a) };
  }
  // The schema requires b here; this guards direct calls that skip validation.
  const b = input.b;
  if (b === undefined) throw new ToolError(`operation "${operation}" needs a second operand b`);
  let result: number;
  switch (operation) {
    case "add":
      result = a + b;
      break;
    case "subtract":
      result = a - b;
      break;
    case "multiply":
      result = a * b;
      break;
    case "divide":
      if (b === 0) throw new ToolError(`division by zero (${a} / 0)`);
      result = a / b;
      break;
    case "power":
      result = a ** b;
      break;
  }
  if (Number.isNaN(result)) {
    // Only power gets here, e.g. a negative base with a fractional exponent.
    throw new ToolError(`${a} ${symbols[operation]} ${b} is not a real number`);
  }
  if (!Number.isFinite(result)) {
    throw new ToolError(`${a} ${symbols[operation]} ${b} overflows: the result is beyond ±${Number.MAX_VALUE}`);
  }
  return { operation, operands: [a, b], result };
}

const symbols = { add: "+", subtract: "-", multiply: "*", divide: "/", power: "^" } as const;
