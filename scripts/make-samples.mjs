#!/usr/bin/env node
/**
 * Writes static/samples/housing.csv: a small, made-up regression table (200 homes) whose price is a
 * known formula of the features plus Gaussian noise, so a linear model should recover roughly:
 *
 *   price_k = 40 + 1.9·area_sqm + 12·bedrooms − 0.6·age_years − 5·distance_km + 18·garden
 *             + {central: 60, suburb: 20, rural: 0}[neighborhood] + N(0, 15²)
 *
 * Deterministic (seeded PRNG, fixed formatting): running it again gives the same bytes.
 * Usage: node scripts/make-samples.mjs
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROWS = 200;
const SEED = 20240601;

/** mulberry32, the same generator as src/lib/core/pipeline/split.ts. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = seededRandom(SEED);
/** Box–Muller: a standard normal draw. */
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const pick = (items) => items[Math.floor(random() * items.length)];

const NEIGHBORHOOD_PREMIUM = { central: 60, suburb: 20, rural: 0 };
const lines = ['area_sqm,bedrooms,age_years,distance_km,garden,neighborhood,price_k'];
for (let i = 0; i < ROWS; i++) {
  const bedrooms = 1 + Math.floor(random() * 5);
  const area = Math.round(30 + bedrooms * 18 + random() * 40);
  const age = Math.floor(random() * 80);
  const neighborhood = pick(['central', 'suburb', 'suburb', 'rural']);
  const distance =
    neighborhood === 'central'
      ? 0.5 + random() * 4
      : neighborhood === 'suburb'
        ? 4 + random() * 10
        : 12 + random() * 25;
  const garden = neighborhood === 'central' ? random() < 0.2 : random() < 0.7;
  const price =
    40 +
    1.9 * area +
    12 * bedrooms -
    0.6 * age -
    5 * distance +
    (garden ? 18 : 0) +
    NEIGHBORHOOD_PREMIUM[neighborhood] +
    15 * normal();
  lines.push(
    [area, bedrooms, age, distance.toFixed(2), garden ? 'yes' : 'no', neighborhood, price.toFixed(1)].join(
      ','
    )
  );
}

const out = fileURLToPath(new URL('../static/samples/housing.csv', import.meta.url));
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${ROWS} rows to ${out}`);
