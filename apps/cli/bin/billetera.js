#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so `npx billetera` works from a fresh `npm ci` without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
