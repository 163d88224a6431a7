/** Page model of the studio: the steps a person takes, named as they would name them. */
import { expect, type Page } from '@playwright/test';

export class Studio {
  constructor(readonly page: Page) {}

  async openDatasets(): Promise<void> {
    await this.page.goto('/datasets');
    await expect(this.page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
  }

  async importSample(name: string): Promise<void> {
    await this.openDatasets();
    await this.page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
    await expect(this.page.getByTestId('dataset-summary')).toBeVisible();
  }

  async importFile(path: string): Promise<void> {
    await this.openDatasets();
    await this.page.getByTestId('file-input').setInputFiles(path);
    await expect(this.page.getByTestId('dataset-summary')).toBeVisible();
  }

  /** Start training from an open dataset page; returns the new run's id. */
  async openTab(name: string): Promise<void> {
    await this.page.getByRole('tab', { name }).click();
    await expect(this.page.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
  }

  async train(opts: { target: string; epochs: number; batchSize?: number }): Promise<string> {
    await this.openTab('Train');
    await this.page.getByTestId('target-select').selectOption(opts.target);
    await this.page.getByLabel('Epochs').fill(String(opts.epochs));
    if (opts.batchSize) await this.page.getByLabel('Batch size').fill(String(opts.batchSize));
    await this.page.getByTestId('start-training').click();
    await this.page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    return this.page.url().split('/').at(-1)!;
  }

  async waitForRunStatus(status: string, timeout = 180_000): Promise<void> {
    await expect(this.page.getByTestId('run-status').first()).toHaveText(status, { timeout });
  }

  async metric(name: string): Promise<number> {
    const text = await this.page.locator(`[data-metric="${name}"]`).textContent();
    return Number(text);
  }
}
