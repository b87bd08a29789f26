// Tiny DOM helpers. Every string from the model goes through textContent (never innerHTML):
// module and class names are user-controlled and may contain markup.

/** Create an element with a class and optional text (set as textContent). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A <button type="button"> with a class and a label; the view adds its click with ctx.listen. */
export function button(className: string, label: string): HTMLButtonElement {
  const b = h("button", className, label);
  b.type = "button";
  return b;
}
