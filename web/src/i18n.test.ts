import { describe, expect, it } from "vitest";
import { en, translate, zh } from "./i18n";

describe("dictionaries", () => {
  it("have the same keys in English and Chinese", () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });
  it("have no empty string", () => {
    for (const [lang, dict] of Object.entries({ en, zh })) {
      for (const [key, text] of Object.entries(dict)) expect(text.trim(), `${lang} ${key}`).not.toBe("");
    }
  });
  it("use the same placeholders in both languages", () => {
    const names = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) expect(names(zh[key]), key).toEqual(names(en[key]));
  });
  it("fill placeholders", () => {
    expect(translate("en", "action.progress", { ready: 3, wanted: 5 })).toBe("3 of 5 instances ready");
    expect(translate("zh", "action.progress", { ready: 3, wanted: 5 })).toBe("3 / 5 个实例就绪");
  });
});
