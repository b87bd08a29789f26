// esbuild loads .css as text (package.json: --loader:.css=text); widget.ts injects it.
declare module "*.css" {
  const text: string;
  export default text;
}
