// The catalog lookup: which language a tag means, placeholders and singulars, and that every
// key the sources name exists (tests/panel/test_i18n.py checks that both catalogs hold the same
// keys with the same placeholders).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOGS, normalizeLanguage, resolveLanguage, translator } from "../../src/core/i18n";

describe("normalizeLanguage", () => {
  it("reads BCP 47 tags and POSIX locales, and knows what it has no catalog for", () => {
    for (const tag of ["zh", "zh-CN", "zh_CN", "ZH-cn", "zh-Hans", "zh-Hans-CN", "zh-SG"]) expect(normalizeLanguage(tag)).toBe("zh-CN");
    for (const tag of ["en", "en-US", "en_GB", "EN"]) expect(normalizeLanguage(tag)).toBe("en");
    for (const tag of ["zh-TW", "zh-Hant", "de-DE", "", null, undefined, "default"]) expect(normalizeLanguage(tag)).toBeNull();
  });

  it("resolveLanguage: the panel's choice, else the page's, else English", () => {
    expect(resolveLanguage("zh-CN", "en-US")).toBe("zh-CN");
    expect(resolveLanguage("en", "zh-CN")).toBe("en");
    expect(resolveLanguage("", "zh-CN")).toBe("zh-CN"); // JupyterLab with the zh_CN language pack
    expect(resolveLanguage("", "fr-FR")).toBe("en");
    expect(resolveLanguage(null, "")).toBe("en");
  });
});

describe("translator", () => {
  it("fills placeholders and picks English singulars by n", () => {
    const en = translator("en");
    const zh = translator("zh-CN");
    expect(en("tree.count", { n: 1 })).toBe("1 module");
    expect(en("tree.count", { n: 2 })).toBe("2 modules");
    expect(en("header.paramsTitle", { n: "1" })).toBe("1 parameter");
    expect(zh("tree.count", { n: 1 })).toBe("1 个模块");
    expect(en("params.captionSelected", { shown: 2, n: 4, where: "fc1" })).toBe("2 of 4 tensors in fc1");
    expect(en("no.such.key")).toBe("no.such.key");
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the sources' keys", () => {
  it("every catalog key a source names exists", () => {
    const prefixes = new Set(Object.keys(CATALOGS.en).map((k) => k.split(".")[0]));
    const named = new Set<string>();
    for (const file of sources(join(__dirname, "../../src"))) {
      for (const m of readFileSync(file, "utf8").matchAll(/"([a-z]+)\.([A-Za-z]+)"/g)) {
        if (prefixes.has(m[1] as string)) named.add(`${m[1]}.${m[2]}`);
      }
    }
    expect(named.size).toBeGreaterThan(100);
    expect([...named].filter((k) => !(k in CATALOGS.en))).toEqual([]);
  });

  it("keys built at run time exist: column and badge tooltips, bar states", () => {
    const en = CATALOGS.en;
    for (const k of Object.keys(en).filter((k) => /^(params\.col|tree\.badge|tree\.status)[A-Za-z]+$/.test(k) && !k.endsWith("Title"))) {
      expect(en, k).toHaveProperty([`${k}Title`]);
    }
    for (const state of ["Running", "Done", "Stopped", "Error"]) expect(en).toHaveProperty([`progress.state${state}`]);
  });
});
