import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { ApiFailure } from "../api/errors";
import TemplateDialog from "./TemplateDialog";
import { errorField, parameterValues, templateTarget, type Parameter, type Template } from "./templates";

const params: Parameter[] = [
  { name: "image", type: "image", description: "the worker's image", default: null },
  { name: "instances", type: "int", description: "how many", default: 2, minimum: 0, maximum: 100 },
  { name: "log_level", type: "enum", description: "how much it logs", default: "INFO", choices: ["DEBUG", "INFO"] },
  { name: "debug", type: "bool", description: "debug mode", default: false },
];
const worker = { name: "python-worker", version: 1, system: "", builtin: true, description: "A Python background worker", parameters: params, body: {}, created_by: "", created_at: null, versions: [] } as unknown as Template;

describe("groups from templates: the parameters", () => {
  it("sends what was given, typed, and leaves empty optional fields to their defaults", () => {
    expect(parameterValues(params, { image: " r/w:1 ", instances: 3, log_level: undefined, debug: false })).toEqual({ image: "r/w:1", instances: 3, debug: false });
    expect(parameterValues(params, undefined)).toEqual({});
  });

  it("names the platform's template by name, a system's with its system", () => {
    expect(templateTarget(worker, { image: "r/w:1" })).toEqual({ name: "python-worker", version: 1, parameters: { image: "r/w:1" } });
    expect(templateTarget({ ...worker, system: "shop" }, {})).toMatchObject({ system: "shop" });
  });

  it.each([
    ["parameters.instances", ["parameters", "instances"]],
    ["template.parameters.image", ["parameters", "image"]],
    ["parameters.nope", undefined],
    ["name", "name"],
    ["cluster", "cluster"],
    ["spec.image", undefined],
    [undefined, undefined],
  ] as const)("the error on %s shows under %j", (field, want) => {
    expect(errorField(field, params)).toEqual(want);
  });
});

describe("the create-from-template dialog", () => {
  it("shows a parameter's error under its field, and makes the group once", async () => {
    const calls: string[] = [];
    const refusal = new ApiFailure({ status: 422, code: "invalid_input", message: "instances must be at most 100", field: "parameters.instances" });
    const renders: (ApiFailure | null)[] = [refusal, null];
    render(
      <TemplateDialog
        templates={[worker]}
        clusters={["local"]}
        flavors={["small"]}
        check={(_t, p) => (calls.push(`render ${JSON.stringify(p)}`), (renders.shift() ? Promise.reject(refusal) : Promise.resolve({})))}
        createGroup={(g) => (calls.push(`group ${g.name} ${g.environment} ${g.cluster}`), Promise.resolve({}))}
        deploy={(g, t, p) => (calls.push(`deploy ${g} ${t.name} ${JSON.stringify(p)}`), Promise.resolve({}))}
        done={() => calls.push("done")}
      />,
    );
    fireEvent.click(screen.getByTestId("create-from-template"));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByTestId("field-name"), { target: { value: "worker" } });
    fireEvent.mouseDown(within(dialog).getByLabelText("Environment"));
    fireEvent.click(await screen.findByTitle("test"));
    fireEvent.mouseDown(within(dialog).getByLabelText("Template"));
    fireEvent.click(await screen.findByTitle("python-worker · v1"));
    expect(await within(dialog).findByText("the worker's image")).toBeTruthy();
    fireEvent.change(within(dialog).getByTestId("param-image"), { target: { value: "registry.local/w:1" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    const fieldError = await within(dialog).findByText("instances must be at most 100");
    expect(fieldError.closest(".ant-form-item")?.querySelector("[data-testid=param-instances]")).toBeTruthy();
    expect(calls).toEqual(['render {"image":"registry.local/w:1","instances":2,"log_level":"INFO","debug":false}']);
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() => expect(calls.at(-1)).toBe("done"));
    expect(calls.slice(1)).toEqual([
      'render {"image":"registry.local/w:1","instances":2,"log_level":"INFO","debug":false}',
      "group worker test local",
      'deploy worker python-worker {"image":"registry.local/w:1","instances":2,"log_level":"INFO","debug":false}',
      "done",
    ]);
  });

  it("does not create the group again when its deploy failed", async () => {
    const calls: string[] = [];
    const deploys = [new ApiFailure({ status: 409, code: "conflict", message: "an operation is under way" })];
    render(
      <TemplateDialog
        templates={[worker]}
        clusters={["local"]}
        flavors={[]}
        check={() => Promise.resolve({})}
        createGroup={(g) => (calls.push(`group ${g.name}`), Promise.resolve({}))}
        deploy={(g) => (calls.push(`deploy ${g}`), deploys.length ? Promise.reject(deploys.shift()) : Promise.resolve({}))}
        done={() => calls.push("done")}
      />,
    );
    fireEvent.click(screen.getByTestId("create-from-template"));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByTestId("field-name"), { target: { value: "w" } });
    fireEvent.mouseDown(within(dialog).getByLabelText("Environment"));
    fireEvent.click(await screen.findByTitle("dev"));
    fireEvent.mouseDown(within(dialog).getByLabelText("Template"));
    fireEvent.click(await screen.findByTitle("python-worker · v1"));
    fireEvent.change(await within(dialog).findByTestId("param-image"), { target: { value: "r/w:1" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() => expect(screen.getByTestId("error").textContent).toContain("an operation is under way"));
    expect(screen.getByTestId("template-created").textContent).toContain("w");
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() => expect(calls.at(-1)).toBe("done"));
    expect(calls).toEqual(["group w", "deploy w", "deploy w", "done"]);
  });
});
