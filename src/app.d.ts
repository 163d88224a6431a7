/// <reference types="vite-plugin-pwa/client" />
/// <reference types="@webgpu/types" />

declare global {
  namespace App {}
}

export {};
