/**
 * Mpps vs frame size, rendered headless to SVG with Vega-Lite: the measured medians (min–max as
 * error bars) per run, the theoretical line-rate curve and the paper's reference points.
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { lineRateCurve } from "./line-rate";
import { MAX_FRAME, MIN_FRAME, type PaperFigure } from "./model";
import { PAPER_REFERENCES } from "./paper-reference";
import type { SizeSummary } from "./results";

export interface PlotSeries {
  readonly run: string;
  readonly paper?: PaperFigure;
  readonly points: readonly SizeSummary[];
}

export interface PlotInput {
  readonly title: string;
  readonly series: readonly PlotSeries[];
  /** Link speed of the line-rate curve in Gbit/s. */
  readonly lineRateGbps: number;
}

/** Sizes at which the line-rate curve is sampled (every 2 bytes: smooth at any zoom). */
function curveSizes(): number[] {
  const sizes: number[] = [];
  for (let size = MIN_FRAME; size <= MAX_FRAME; size += 2) sizes.push(size);
  return sizes;
}

export function plotSpec(input: PlotInput): vl.TopLevelSpec {
  const measured = input.series.flatMap((series) =>
    series.points.map((p) => ({
      series: series.run,
      size: p.size,
      median: p.mpps.median,
      min: p.mpps.min,
      max: p.mpps.max,
    })),
  );
  const lineRateName = `${input.lineRateGbps} GbE line rate`;
  const curve = lineRateCurve(curveSizes(), input.lineRateGbps).map((p) => ({ series: lineRateName, ...p }));
  const figures = [...new Set(input.series.flatMap((s) => (s.paper ? [s.paper] : [])))];
  const references = figures.map((figure) => PAPER_REFERENCES[figure]);
  const x = {
    field: "size",
    type: "quantitative",
    title: "frame size (bytes, without CRC)",
    scale: { domain: [0, MAX_FRAME + 40] },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: input.title,
    width: 560,
    height: 340,
    background: "white",
    layer: [
      {
        data: { values: curve },
        mark: { type: "line", strokeDash: [6, 4], color: "#777" },
        encoding: {
          x,
          y: { field: "mpps", type: "quantitative", title: "Mpps" },
          detail: { field: "series" },
        },
      },
      {
        data: { values: measured },
        mark: { type: "rule" },
        encoding: {
          x,
          y: { field: "min", type: "quantitative" },
          y2: { field: "max" },
          color: { field: "series", type: "nominal", title: "run" },
        },
      },
      {
        data: { values: measured },
        mark: { type: "line", point: true },
        encoding: {
          x,
          y: { field: "median", type: "quantitative" },
          color: { field: "series", type: "nominal", title: "run" },
        },
      },
      {
        data: { values: references.map((r) => ({ size: r.size, mpps: r.mpps, label: r.label })) },
        layer: [
          { mark: { type: "point", shape: "diamond", size: 120, filled: true, color: "black" } },
          {
            mark: { type: "text", align: "left", dx: 8, dy: -8, fontSize: 10 },
            encoding: { text: { field: "label" } },
          },
        ],
        encoding: { x, y: { field: "mpps", type: "quantitative" } },
      },
      {
        data: { values: [{ size: MAX_FRAME, mpps: curve[curve.length - 1].mpps, label: lineRateName }] },
        mark: { type: "text", align: "right", dy: -10, fontSize: 10, color: "#555" },
        encoding: { x, y: { field: "mpps", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  } as vl.TopLevelSpec;
}

/** Renders the plot as an SVG document. */
export async function renderPlotSvg(input: PlotInput): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(plotSpec(input)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
