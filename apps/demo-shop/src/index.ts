/** `@billetera/demo-shop`: a merchant server on the merchant SDK, with its mini program. */
export {
  startDemoShop,
  DEMO_SHOP_MINI_PROGRAM,
  type DemoShopOptions,
  type RunningDemoShop,
} from './demo-shop.ts';
export { PRODUCTS, type Product, type ProductView } from './catalogue.ts';
export type { ConfirmedBy, OrderStatus } from './order-book.ts';
