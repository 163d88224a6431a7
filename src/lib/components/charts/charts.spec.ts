import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import BarChart from './BarChart.svelte';
import LineChart from './LineChart.svelte';
import ScatterPlot from './ScatterPlot.svelte';

const styles = (body: string, cls: string) =>
  [...body.matchAll(new RegExp(`class="${cls}[^"]*"[^>]*style="([^"]*)"`, 'g'))].map((m) => m[1]);

describe('BarChart', () => {
  it('draws counts from zero as before: the largest fills the bar', () => {
    const body = render(BarChart, {
      props: {
        title: 'top values',
        items: [
          { label: 'a', count: 120 },
          { label: 'b', count: 45 }
        ]
      }
    }).body;
    expect(styles(body, 'fill')).toEqual(['left: 0%; width: 100%;', 'left: 0%; width: 37.5%;']);
    expect(body).not.toContain('class="zero"');
    expect(body).not.toContain('class="whisker"');
  });

  it('draws signed values around a zero line with ± whiskers', () => {
    // range −.15 (−.1 − .05) to .25 (.2 + .05): zero at 37.5 %, .2 spans 50 %, −.1 spans 25 % left of zero
    const body = render(BarChart, {
      props: {
        title: 'importance',
        items: [
          { label: 'used', count: 0.2, error: 0.05 },
          { label: 'noise', count: -0.1, error: 0.05 }
        ],
        format: (v: number) => v.toFixed(2)
      }
    }).body;
    expect(styles(body, 'zero')).toEqual(['left: 37.5%;', 'left: 37.5%;']);
    const fills = styles(body, 'fill').map((style) =>
      [...(style ?? '').matchAll(/[\d.]+/g)].map((m) => Number(m[0]))
    );
    expect(fills).toHaveLength(2);
    [37.5, 50, 12.5, 25].forEach((v, i) => expect(fills.flat()[i]).toBeCloseTo(v, 9));
    expect(body).toMatch(/class="fill [^"]*negative"/);
    expect(styles(body, 'whisker')).toHaveLength(2);
    expect(body).toMatch(/>0\.20\s±\s0\.05</);
  });
});

describe('LineChart', () => {
  it('draws a step curve, a dashed reference and its text alternative', () => {
    const body = render(LineChart, {
      props: {
        title: 'PR',
        xDomain: [0, 1],
        yDomain: [0, 1],
        width: 216,
        height: 146,
        description: 'precision against recall',
        series: [
          {
            name: 'curve',
            curve: 'step',
            points: [
              { step: 1, value: 0.5 },
              { step: 0.5, value: 1 }
            ]
          },
          {
            name: 'chance',
            reference: true,
            points: [
              { step: 0, value: 0.5 },
              { step: 1, value: 0.5 }
            ]
          }
        ]
      }
    }).body;
    // plot area x: 56..200, y: 12..112 → (1, .5) = (200, 62), then hold .5 until x = .5 (128), then up to 1 (12)
    expect(body).toContain('d="M200.0,62.0 H128.0 V12.0"');
    expect(body).toContain('stroke-dasharray="5 4"');
    expect(body).toContain('aria-label="PR: precision against recall"');
    // a continuous axis gets fractional ticks
    expect(body).toContain('>0.25<');
  });

  it('keeps whole-epoch ticks and marks an epoch', () => {
    const body = render(LineChart, {
      props: {
        title: 'Loss',
        series: [{ name: 'loss', points: [1, 2, 3].map((step) => ({ step, value: 1 / step })) }],
        markers: [{ step: 2, label: 'best epoch 2' }]
      }
    }).body;
    expect(body).toContain('>best epoch 2<');
    expect(body).toMatch(/aria-label="Loss: loss 0\.333 at epoch 3; best epoch 2 at epoch 2"/);
    expect(body).not.toContain('>1.5<');
  });
});

describe('ScatterPlot', () => {
  it('puts both axes of a predicted-against-actual plot on one scale with the y = x guide', () => {
    const body = render(ScatterPlot, {
      props: {
        title: 'Predicted against actual',
        xLabel: 'actual',
        yLabel: 'predicted',
        reference: 'identity',
        points: [
          { x: 0, y: 10 },
          { x: 100, y: 90 }
        ]
      }
    }).body;
    const guide = /class="guide[^"]*" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/.exec(body);
    // the guide runs corner to corner of the plot area: (64, 322) to (424, 12)
    expect(guide?.slice(1).map(Number)).toEqual([64, 322, 424, 12]);
    expect(body).toContain('2 points; actual from 0 to 100, predicted from 10 to 90');
  });
});
