/** Entry of the `/jsapi/my.js` bundle: a classic script that defines the global `my`. */
import { createMy } from './create-my.ts';
import type { My } from './types.ts';

declare const window: { my: My };

// Always ours: a mini program must not get a `my` planted by something else on the page.
window.my = createMy();
