// The panel's words: one catalog per language, shared with the kernel. The catalogs are
// src/modelpanel/strings/<language>.json (the Python package's data, read by
// src/modelpanel/panel/i18n.py for the static snapshot), bundled here by esbuild.
//
// A message is looked up by key and its {placeholders} filled in; where English needs a
// singular, the catalog holds "<key>_one", used when the `n` placeholder is 1 or "1" (Chinese
// has no plural forms). Exception messages from the kernel stay English, as torch's do.
//
// Which language: the panel's `_language` trait (ModelPanel(..., language="zh-CN")), else the
// host's display language, which JupyterLab 4 and Notebook 7 write to <html lang> when their
// translator starts (@jupyterlab/translation-extension: "zh_CN" -> "zh-CN"), else English.

import en from "../../../src/modelpanel/strings/en.json";
import zhCN from "../../../src/modelpanel/strings/zh-CN.json";

export const CATALOGS: Readonly<Record<Language, Readonly<Record<string, string>>>> = { en, "zh-CN": zhCN };

export type Language = "en" | "zh-CN";

/** Fill a message's {placeholders}; returns the key itself for a key no catalog has. */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

/**
 * A supported language for a BCP 47 tag or a POSIX locale ("zh", "zh-CN", "zh_CN",
 * "zh-Hans", "en-US", ...); null for any other (Traditional Chinese included: zh-TW, zh-Hant).
 * The same rule as normalize_language in src/modelpanel/panel/i18n.py.
 */
export function normalizeLanguage(tag: string | null | undefined): Language | null {
  const t = (tag ?? "").trim().toLowerCase().replace(/_/g, "-");
  if (t === "en" || t.startsWith("en-")) return "en";
  if (["zh", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn", "zh-hans-sg"].includes(t)) return "zh-CN";
  return null;
}

/**
 * The language a view shows: the panel's own choice when it made one (`_language`), else the
 * page's display language (<html lang>), else English.
 */
export function resolveLanguage(chosen: string | null | undefined, pageLang: string | null | undefined): Language {
  return normalizeLanguage(chosen) ?? normalizeLanguage(pageLang) ?? "en";
}

/** <html lang> of the page the view is in ("" outside a browser). */
export function pageLanguage(): string {
  return typeof document === "undefined" ? "" : (document.documentElement?.lang ?? "");
}

/** The lookup function of one language. */
export function translator(language: Language): Translate {
  const catalog = CATALOGS[language];
  return (key, vars) => {
    const one = vars?.n === 1 || vars?.n === "1" ? catalog[`${key}_one`] : undefined;
    const text = one ?? catalog[key] ?? key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}

/** English: the default of the pure functions in logic/, which tests call without a language. */
export const EN: Translate = translator("en");
