/**
 * What the demo shop sells. Prices are wire amounts (minor units as a string), so they go into `pay`
 * unchanged; the Matcha set is in JPY to show a currency without decimals ("1,200 JPY").
 */
import { formatAmount, type Amount } from '@billetera/protocol';

export interface Product {
  id: string;
  name: string;
  description: string;
  price: Amount;
}

export interface ProductView extends Product {
  /** For people: "3.50 USD", "1,200 JPY". */
  formattedPrice: string;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 'cafe-de-olla',
    name: 'Café de olla',
    description: 'Coffee brewed in a clay pot with cinnamon and piloncillo.',
    price: { currency: 'USD', value: '350' },
  },
  {
    id: 'tamales-6',
    name: 'Tamales (6)',
    description: 'Six corn tamales: three verdes, three rajas con queso.',
    price: { currency: 'USD', value: '1200' },
  },
  {
    id: 'matcha-set',
    name: 'Matcha set',
    description: 'Ceremonial-grade matcha with a bamboo whisk and scoop.',
    price: { currency: 'JPY', value: '1200' },
  },
];

export function findProduct(id: string): Product | undefined {
  return PRODUCTS.find((p) => p.id === id);
}

export function formatPrice(amount: Amount): string {
  return formatAmount(BigInt(amount.value), amount.currency);
}

export function productView(product: Product): ProductView {
  return { ...product, price: { ...product.price }, formattedPrice: formatPrice(product.price) };
}
