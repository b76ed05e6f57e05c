/** The demo shop's content: deterministic, so seeding twice gives the same shop. */

export interface SeedProduct {
  sku: string;
  name: string;
  nameEn: string;
  price: number;
  oldPrice?: number;
  stock: number;
}

type Gender = 'm' | 'f' | 'n' | 'pl';

// Each base name carries its grammatical gender, so the colour agrees with it in Russian
// ("Чайник заварочный, белый", "Кружка керамическая, белая").
const BASE: Array<[string, Gender, string, number]> = [
  ['Кружка керамическая', 'f', 'Ceramic mug', 590],
  ['Чайник заварочный', 'm', 'Teapot', 1490],
  ['Плед шерстяной', 'm', 'Wool throw', 3990],
  ['Подушка декоративная', 'f', 'Cushion', 1290],
  ['Свеча ароматическая', 'f', 'Scented candle', 890],
  ['Полотенце банное', 'n', 'Bath towel', 1190],
  ['Бокалы для вина, набор из 4', 'pl', 'Wine glasses, set of 4', 2490],
  ['Тарелка обеденная', 'f', 'Dinner plate', 690],
  ['Скатерть льняная', 'f', 'Linen tablecloth', 2990],
  ['Корзина плетёная', 'f', 'Woven basket', 1790],
];
// Colour adjectives by gender (m, f, n, pl) and the English colour.
const VARIANTS: Array<[Record<Gender, string>, string]> = [
  [{ m: 'белый', f: 'белая', n: 'белое', pl: 'белые' }, 'white'],
  [{ m: 'графитовый', f: 'графитовая', n: 'графитовое', pl: 'графитовые' }, 'graphite'],
  [{ m: 'оливковый', f: 'оливковая', n: 'оливковое', pl: 'оливковые' }, 'olive'],
  [{ m: 'терракотовый', f: 'терракотовая', n: 'терракотовое', pl: 'терракотовые' }, 'terracotta'],
  [{ m: 'песочный', f: 'песочная', n: 'песочное', pl: 'песочные' }, 'sand'],
];

export function seedProducts(): SeedProduct[] {
  const out: SeedProduct[] = [];
  BASE.forEach(([name, gender, nameEn, price], i) => {
    VARIANTS.forEach(([variant, variantEn], j) => {
      const n = i * VARIANTS.length + j;
      out.push({
        sku: `KB-${String(n + 1).padStart(4, '0')}`,
        name: `${name}, ${variant[gender]}`,
        nameEn: `${nameEn}, ${variantEn}`,
        price: price + j * 100,
        // Every seventh product is on sale, every sixth is out of stock.
        ...(n % 7 === 3 ? { oldPrice: price + j * 100 + 400 } : {}),
        stock: n % 6 === 5 ? 0 : 3 + ((n * 7) % 40),
      });
    });
  });
  return out;
}

export interface SeedCustomer {
  phone: string;
  firstName: string;
  lastName: string;
  email: string;
  language: 'ru' | 'en';
  birthday?: string;
  address: { city: string; street: string; house: string; apartment?: string; postcode: string };
}

export const SEED_CUSTOMERS: SeedCustomer[] = [
  { phone: '+79990000001', firstName: 'Анна', lastName: 'Смирнова', email: 'anna@example.com', language: 'ru', birthday: '1990-04-12', address: { city: 'Москва', street: 'ул. Тверская', house: '7', apartment: '12', postcode: '125009' } },
  { phone: '+79990000002', firstName: 'Игорь', lastName: 'Петров', email: 'igor@example.com', language: 'ru', address: { city: 'Санкт-Петербург', street: 'Невский пр.', house: '28', apartment: '5', postcode: '191186' } },
  { phone: '+79990000003', firstName: 'Emily', lastName: 'Clark', email: 'emily@example.com', language: 'en', birthday: '1988-11-30', address: { city: 'Moscow', street: 'Arbat St.', house: '10', apartment: '3', postcode: '119002' } },
  { phone: '+79990000004', firstName: 'Мария', lastName: 'Иванова', email: 'maria@example.com', language: 'ru', address: { city: 'Казань', street: 'ул. Баумана', house: '15', postcode: '420111' } },
  { phone: '+79990000005', firstName: 'David', lastName: 'Miller', email: 'david@example.com', language: 'en', address: { city: 'Saint Petersburg', street: 'Liteyny Ave.', house: '40', apartment: '18', postcode: '191028' } },
];

export const STATUS_PATHS = {
  created: ['created'],
  confirmed: ['created', 'confirmed'],
  paid: ['created', 'confirmed', 'paid'],
  assembling: ['created', 'confirmed', 'paid', 'assembling'],
  shipped: ['created', 'confirmed', 'paid', 'assembling', 'shipped'],
  ready_for_pickup: ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'ready_for_pickup'],
  delivered: ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'delivered'],
  cancelled: ['created', 'cancelled'],
  returned: ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'delivered', 'returned'],
} as const;

export type SeedStatus = keyof typeof STATUS_PATHS;
export const ALL_STATUSES = Object.keys(STATUS_PATHS) as SeedStatus[];
