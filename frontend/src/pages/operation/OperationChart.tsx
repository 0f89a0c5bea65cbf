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
const HIDDEN = 'rgba(0,0,0,0)';
const TARGET_COLOR = UP_COLOR;
const LEVEL_COLORS: Record<PriceLevel['kind'], string> = { stop: STOP_COLOR, target: TARGET_COLOR, entry: '#90caf9' };

function secondsOf(time: Time): number | null {
  return typeof time === 'number' ? time : null;
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
  const stops = useRef<ISeriesApi<'Line'> | null>(null);
  const targets = useRef<ISeriesApi<'Line'> | null>(null);
  const priceLines = useRef<IPriceLine[]>([]);
  const fitted = useRef(false);
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
    stops.current = levelLine(STOP_COLOR, LineStyle.Solid);
    targets.current = levelLine(TARGET_COLOR, LineStyle.Dashed);
    markers.current = createSeriesMarkers(series, []);
    return () => {
      stops.current = null;
      targets.current = null;
      priceLines.current = [];
      markers.current = null;
      candles.current = null;
      chart.current = null;
      fitted.current = false;
      instance.remove();
    };
  }, [digits]);

  useEffect(() => {
    const series = candles.current;
    if (!series) return;
    series.setData(bars.map((b) => ({ ...b, time: b.time as UTCTimestamp })));
    if (!fitted.current && bars.length > 0) {
      // the most recent bars; scroll or zoom out for the rest
      chart.current?.timeScale().setVisibleLogicalRange({ from: Math.max(0, bars.length - VISIBLE_BARS), to: bars.length + 3 });
      fitted.current = true;
    }
  }, [bars, digits]);

  useEffect(() => {
    markers.current?.setMarkers(overlay.markers.map((m) => ({ ...m, time: m.time as UTCTimestamp })));
    const times = bars.map((b) => b.time);
    const asSeries = (kind: 'stop' | 'target') => mergeLines(overlay.lines, kind, times)
      .map((item) => ({ time: item.time as UTCTimestamp, value: item.value, ...(item.hidden ? { color: HIDDEN } : {}) }));
    stops.current?.setData(asSeries('stop'));
    targets.current?.setData(asSeries('target'));
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
