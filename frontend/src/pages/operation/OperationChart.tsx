/**
 * The operation's candlestick chart (TradingView lightweight-charts v5):
 * entry / exit markers, each trade's stop-loss (a step line: its moves) and
 * take-profit, and price lines for the open position's levels. The element
 * `op-chart-markers-count` (hidden) holds the number of markers drawn.
 */
import { useEffect, useRef } from 'react';
import { Box, Typography } from '@mui/material';
import {
  CandlestickSeries, createChart, createSeriesMarkers, LineSeries, LineStyle, LineType, TickMarkType,
  type IChartApi, type IPriceLine, type ISeriesApi, type ISeriesMarkersPluginApi, type Time, type UTCTimestamp,
} from 'lightweight-charts';
import { assetInfo, formatDateTime } from '../../format/format';
import { DOWN_COLOR, mergeLines, UP_COLOR, type ChartOverlay } from './chartData';
import type { CandleBar } from './useChartData';

export type PriceLevel = { price: number; title: string; kind: 'stop' | 'target' | 'entry' };

type Props = {
  bars: CandleBar[];
  overlay: ChartOverlay;
  asset: string;
  /** horizontal lines across the chart (the open position's levels) */
  levels: PriceLevel[];
  height?: number;
};

const STOP_COLOR = DOWN_COLOR;
const VISIBLE_BARS = 250;
const RIGHT_MARGIN_BARS = 40;
const LABELLED_MARKERS = 6;
/** series per level kind: consecutive trades go to different series (see mergeLines) */
const LANES = 3;
const HIDDEN = 'rgba(0,0,0,0)';
const TARGET_COLOR = UP_COLOR;
const LEVEL_COLORS: Record<PriceLevel['kind'], string> = { stop: STOP_COLOR, target: TARGET_COLOR, entry: '#90caf9' };

function secondsOf(time: Time): number | null {
  return typeof time === 'number' ? time : null;
}

/** Index of the bar at `time` (bars ascending), or of the last bar before it. */
export function barIndex(bars: readonly CandleBar[], time: number): number {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((bars[mid] as CandleBar).time <= time) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A logical range `width` bars wide with bar `index` near its right edge (never past the last bar). */
export function visibleAround(index: number, width: number, count: number): { from: number; to: number } {
  const to = Math.min(index + RIGHT_MARGIN_BARS, count + 3);
  return { from: to - width, to };
}

function tickLabel(time: Time, type: TickMarkType): string | null {
  const seconds = secondsOf(time);
  if (seconds === null) return null;
  const date = new Date(seconds * 1000);
  switch (type) {
    case TickMarkType.Year:
      return new Intl.DateTimeFormat(undefined, { year: 'numeric' }).format(date);
    case TickMarkType.Month:
      return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(date);
    case TickMarkType.DayOfMonth:
      return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' }).format(date);
    default:
      return new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(date);
  }
}

export function OperationChart({ bars, overlay, asset, levels, height = 420 }: Props) {
  const container = useRef<HTMLDivElement | null>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const levelSeries = useRef<{ kind: 'stop' | 'target'; lane: number; series: ISeriesApi<'Line'> }[]>([]);
  const priceLines = useRef<IPriceLine[]>([]);
  const fitted = useRef(false);
  const anchorIndex = useRef<number | null>(null);
  const digits = assetInfo(asset).priceDigits;

  useEffect(() => {
    if (!container.current) return undefined;
    const instance = createChart(container.current, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: '#b0b8c4', attributionLogo: true },
      grid: { vertLines: { color: 'rgba(255,255,255,0.04)' }, horzLines: { color: 'rgba(255,255,255,0.04)' } },
      timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: tickLabel },
      localization: {
        timeFormatter: (time: Time) => {
          const seconds = secondsOf(time);
          return seconds === null ? String(time) : formatDateTime(seconds);
        },
      },
      rightPriceScale: { borderVisible: false },
    });
    const series = instance.addSeries(CandlestickSeries, {
      upColor: UP_COLOR, downColor: DOWN_COLOR, wickUpColor: UP_COLOR, wickDownColor: DOWN_COLOR, borderVisible: false,
      priceFormat: { type: 'price', precision: digits, minMove: 10 ** -digits },
    });
    const levelLine = (color: string, style: LineStyle) => instance.addSeries(LineSeries, {
      color,
      lineWidth: 1,
      lineType: LineType.WithSteps,
      lineStyle: style,
      lastValueVisible: false,
      priceLineVisible: false,
      crosshairMarkerVisible: false,
      priceFormat: { type: 'price', precision: digits, minMove: 10 ** -digits },
    });
    chart.current = instance;
    candles.current = series;
    levelSeries.current = (['stop', 'target'] as const).flatMap((kind) => Array.from({ length: LANES }, (_, lane) => ({
      kind, lane,
      series: kind === 'stop' ? levelLine(STOP_COLOR, LineStyle.Solid) : levelLine(TARGET_COLOR, LineStyle.Dashed),
    })));
    markers.current = createSeriesMarkers(series, []);
    return () => {
      levelSeries.current = [];
      priceLines.current = [];
      markers.current = null;
      candles.current = null;
      chart.current = null;
      fitted.current = false;
      anchorIndex.current = null;
      instance.remove();
    };
  }, [digits]);

  useEffect(() => {
    const series = candles.current;
    if (!series) return;
    series.setData(bars.map((b) => ({ ...b, time: b.time as UTCTimestamp })));
  }, [bars, digits]);

  // Show the bars up to the latest trade (replayed history can lie well before
  // the last bar), then follow new trades while the latest one is in view.
  const lastMarker = overlay.markers[overlay.markers.length - 1]?.time;
  useEffect(() => {
    const timeScale = chart.current?.timeScale();
    if (!timeScale || bars.length === 0) return;
    const anchor = lastMarker === undefined ? bars.length - 1 : barIndex(bars, lastMarker);
    const previous = anchorIndex.current;
    anchorIndex.current = anchor;
    const range = timeScale.getVisibleLogicalRange();
    if (!fitted.current || !range) {
      timeScale.setVisibleLogicalRange(visibleAround(anchor, VISIBLE_BARS, bars.length));
      fitted.current = true;
    } else if (previous !== null && anchor > previous && previous >= range.from && previous <= range.to && anchor > range.to - 5) {
      timeScale.setVisibleLogicalRange(visibleAround(anchor, range.to - range.from, bars.length));
    }
  }, [bars, lastMarker]);

  useEffect(() => {
    // only the latest markers carry their text: older ones would pile up (the trades table has them all)
    const labelled = overlay.markers.length - LABELLED_MARKERS;
    markers.current?.setMarkers(overlay.markers.map((m, i) => ({
      ...m, time: m.time as UTCTimestamp, text: i >= labelled ? m.text : '',
    })));
    const times = bars.map((b) => b.time);
    for (const { kind, lane, series } of levelSeries.current) {
      series.setData(mergeLines(overlay.lines, kind, times, lane, LANES).map((item) => ({
        time: item.time as UTCTimestamp, value: item.value, ...(item.hidden ? { color: HIDDEN } : {}),
      })));
    }
  }, [overlay, bars, digits]);

  useEffect(() => {
    const series = candles.current;
    if (!series) return;
    for (const line of priceLines.current) series.removePriceLine(line);
    priceLines.current = levels.map((level) => series.createPriceLine({
      price: level.price,
      color: LEVEL_COLORS[level.kind],
      lineWidth: 1,
      lineStyle: level.kind === 'entry' ? LineStyle.Dotted : LineStyle.Dashed,
      axisLabelVisible: true,
      title: level.title,
    }));
  }, [levels, digits]);

  return (
    <Box sx={{ position: 'relative' }}>
      <Box ref={container} data-testid="op-chart" data-bars={bars.length}
        sx={{ height, width: '100%', minHeight: height }} />
      <Typography component="span" data-testid="op-chart-markers-count" sx={{ display: 'none' }}>
        {overlay.markers.length}
      </Typography>
    </Box>
  );
}
