/** A strict little XML well-formedness check for the plot tests: balanced tags, quoted attributes. */

export interface SvgShape {
  readonly root: string;
  readonly width: number;
  readonly height: number;
  /** Every element name with its count. */
  readonly elements: Record<string, number>;
  /** Text content of <text> elements. */
  readonly texts: string[];
}

const NAME = "[A-Za-z_][\\w.:-]*";
const ATTR = `\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*')`;
const OPEN = new RegExp(`^<(${NAME})((?:${ATTR})*)\\s*(/?)>`);
const CLOSE = new RegExp(`^</(${NAME})\\s*>`);

/** Parses `svg` or throws with the offset of the first problem. */
export function checkSvg(svg: string): SvgShape {
  const stack: string[] = [];
  const elements: Record<string, number> = {};
  const texts: string[] = [];
  let root = "";
  let attrs = "";
  let i = 0;
  let textOpen = false;
  while (i < svg.length) {
    const rest = svg.slice(i);
    if (rest.startsWith("<?")) {
      const end = rest.indexOf("?>");
      if (end < 0) throw new Error(`unterminated processing instruction at ${i}`);
      i += end + 2;
    } else if (rest.startsWith("<!--")) {
      const end = rest.indexOf("-->");
      if (end < 0) throw new Error(`unterminated comment at ${i}`);
      i += end + 3;
    } else if (rest.startsWith("</")) {
      const m = CLOSE.exec(rest);
      if (!m || stack.pop() !== m[1]) throw new Error(`mismatched closing tag at ${i}: ${rest.slice(0, 30)}`);
      if (m[1] === "text") textOpen = false;
      i += m[0].length;
    } else if (rest.startsWith("<")) {
      const m = OPEN.exec(rest);
      if (!m) throw new Error(`malformed tag at ${i}: ${rest.slice(0, 40)}`);
      if (stack.length === 0) {
        if (root !== "") throw new Error(`second root element at ${i}`);
        root = m[1];
        attrs = m[2];
      }
      elements[m[1]] = (elements[m[1]] ?? 0) + 1;
      if (m[3] !== "/") {
        stack.push(m[1]);
        if (m[1] === "text") textOpen = true;
      }
      i += m[0].length;
    } else {
      const next = rest.indexOf("<");
      const text = next < 0 ? rest : rest.slice(0, next);
      if (stack.length === 0 && text.trim() !== "") throw new Error(`text outside the root element at ${i}`);
      if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text))
        throw new Error(`bad entity at ${i}`);
      if (textOpen && text.trim() !== "") texts.push(text.trim());
      i += text.length;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(" > ")}`);
  const dimension = (name: string): number =>
    Number(new RegExp(`\\s${name}="([\\d.]+)"`).exec(attrs)?.[1] ?? NaN);
  return { root, width: dimension("width"), height: dimension("height"), elements, texts };
}
