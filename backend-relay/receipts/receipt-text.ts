/** The receipt page's words in the kiosk's five languages (the passenger's at payment time). */
import type { Locale } from '../../protocol/kiosk-api.js';

export interface ReceiptText {
  title: string;
  notice: string;
  orgNumber: string;
  orgMissing: string;
  cab: string;
  plate: string;
  driver: string;
  started: string;
  ended: string;
  paid: string;
  item: string;
  vatRate: string;
  vat: string;
  amount: string;
  net: string;
  vatTotal: string;
  orderAmount: string;
  tip: string;
  tipNote: string;
  total: string;
  method: string;
  methodPsp: (psp: string) => string;
  methodOther: string;
  reference: string;
  receiptId: string;
  print: string;
  notFoundTitle: string;
  notFound: string;
  lines: Record<'fare' | 'toll' | 'airport_fee' | 'luggage' | 'booking_fee' | 'other', string>;
}

export const RECEIPT_TEXT: Record<Locale, ReceiptText> = {
  en: {
    title: 'Payment receipt',
    notice: 'This is the receipt for your payment. It is not the taximeter receipt; ask the driver for that one.',
    orgNumber: 'Org. no.',
    orgMissing: 'not configured',
    cab: 'Cab',
    plate: 'Plate',
    driver: 'Driver',
    started: 'Ride started',
    ended: 'Ride ended',
    paid: 'Paid',
    item: 'Item',
    vatRate: 'VAT rate',
    vat: 'VAT',
    amount: 'Amount',
    net: 'Excl. VAT',
    vatTotal: 'VAT total',
    orderAmount: 'Order amount',
    tip: 'Tip',
    tipNote: 'voluntary, no VAT',
    total: 'Total paid',
    method: 'Payment method',
    methodPsp: (psp) => `QR payment (${psp})`,
    methodOther: 'Paid another way (cash or card terminal)',
    reference: 'PSP reference',
    receiptId: 'Order id',
    print: 'Print',
    notFoundTitle: 'Receipt not found',
    notFound: 'There is no receipt at this address. Check the link, or ask the fleet for your receipt.',
    lines: { fare: 'Taxi fare', toll: 'Toll', airport_fee: 'Airport fee', luggage: 'Luggage', booking_fee: 'Booking fee', other: 'Other' },
  },
  sv: {
    title: 'Betalningskvitto',
    notice: 'Detta är kvittot på din betalning. Det är inte taxameterkvittot; det får du av föraren.',
    orgNumber: 'Org.nr',
    orgMissing: 'ej angivet',
    cab: 'Taxi',
    plate: 'Reg.nr',
    driver: 'Förare',
    started: 'Resan började',
    ended: 'Resan slutade',
    paid: 'Betald',
    item: 'Post',
    vatRate: 'Momssats',
    vat: 'Moms',
    amount: 'Belopp',
    net: 'Exkl. moms',
    vatTotal: 'Moms totalt',
    orderAmount: 'Orderbelopp',
    tip: 'Dricks',
    tipNote: 'frivillig, utan moms',
    total: 'Totalt betalt',
    method: 'Betalsätt',
    methodPsp: (psp) => `QR-betalning (${psp})`,
    methodOther: 'Betalt på annat sätt (kontant eller kortterminal)',
    reference: 'PSP-referens',
    receiptId: 'Order-id',
    print: 'Skriv ut',
    notFoundTitle: 'Kvittot hittades inte',
    notFound: 'Det finns inget kvitto på den här adressen. Kontrollera länken eller be åkeriet om kvittot.',
    lines: { fare: 'Taxiresa', toll: 'Vägtull', airport_fee: 'Flygplatsavgift', luggage: 'Bagage', booking_fee: 'Bokningsavgift', other: 'Övrigt' },
  },
  nb: {
    title: 'Betalingskvittering',
    notice: 'Dette er kvitteringen for betalingen din. Den er ikke taksameterkvitteringen; den får du av sjåføren.',
    orgNumber: 'Org.nr.',
    orgMissing: 'ikke angitt',
    cab: 'Drosje',
    plate: 'Reg.nr.',
    driver: 'Sjåfør',
    started: 'Turen startet',
    ended: 'Turen sluttet',
    paid: 'Betalt',
    item: 'Post',
    vatRate: 'Mva-sats',
    vat: 'Mva',
    amount: 'Beløp',
    net: 'Ekskl. mva',
    vatTotal: 'Mva totalt',
    orderAmount: 'Ordrebeløp',
    tip: 'Tips',
    tipNote: 'frivillig, uten mva',
    total: 'Totalt betalt',
    method: 'Betalingsmåte',
    methodPsp: (psp) => `QR-betaling (${psp})`,
    methodOther: 'Betalt på annen måte (kontant eller kortterminal)',
    reference: 'PSP-referanse',
    receiptId: 'Ordre-id',
    print: 'Skriv ut',
    notFoundTitle: 'Fant ikke kvitteringen',
    notFound: 'Det finnes ingen kvittering på denne adressen. Sjekk lenken, eller spør drosjeselskapet.',
    lines: { fare: 'Drosjetur', toll: 'Bompenger', airport_fee: 'Flyplassavgift', luggage: 'Bagasje', booking_fee: 'Bestillingsgebyr', other: 'Annet' },
  },
  da: {
    title: 'Betalingskvittering',
    notice: 'Dette er kvitteringen for din betaling. Den er ikke taxameterkvitteringen; den får du af chaufføren.',
    orgNumber: 'CVR-nr.',
    orgMissing: 'ikke angivet',
    cab: 'Taxa',
    plate: 'Reg.nr.',
    driver: 'Chauffør',
    started: 'Turen startede',
    ended: 'Turen sluttede',
    paid: 'Betalt',
    item: 'Post',
    vatRate: 'Momssats',
    vat: 'Moms',
    amount: 'Beløb',
    net: 'Ekskl. moms',
    vatTotal: 'Moms i alt',
    orderAmount: 'Ordrebeløb',
    tip: 'Drikkepenge',
    tipNote: 'frivillige, uden moms',
    total: 'Betalt i alt',
    method: 'Betalingsmåde',
    methodPsp: (psp) => `QR-betaling (${psp})`,
    methodOther: 'Betalt på anden måde (kontant eller kortterminal)',
    reference: 'PSP-reference',
    receiptId: 'Ordre-id',
    print: 'Udskriv',
    notFoundTitle: 'Kvitteringen blev ikke fundet',
    notFound: 'Der er ingen kvittering på denne adresse. Tjek linket, eller spørg taxaselskabet.',
    lines: { fare: 'Taxatur', toll: 'Bompenge', airport_fee: 'Lufthavnsgebyr', luggage: 'Bagage', booking_fee: 'Bestillingsgebyr', other: 'Andet' },
  },
  fi: {
    title: 'Maksukuitti',
    notice: 'Tämä on kuitti maksustasi. Se ei ole taksamittarin kuitti; sen saat kuljettajalta.',
    orgNumber: 'Y-tunnus',
    orgMissing: 'ei asetettu',
    cab: 'Taksi',
    plate: 'Rekisterinumero',
    driver: 'Kuljettaja',
    started: 'Matka alkoi',
    ended: 'Matka päättyi',
    paid: 'Maksettu',
    item: 'Rivi',
    vatRate: 'ALV-kanta',
    vat: 'ALV',
    amount: 'Summa',
    net: 'Veroton',
    vatTotal: 'ALV yhteensä',
    orderAmount: 'Tilauksen summa',
    tip: 'Juomaraha',
    tipNote: 'vapaaehtoinen, ei ALV:tä',
    total: 'Maksettu yhteensä',
    method: 'Maksutapa',
    methodPsp: (psp) => `QR-maksu (${psp})`,
    methodOther: 'Maksettu muulla tavalla (käteinen tai korttipääte)',
    reference: 'PSP-viite',
    receiptId: 'Tilausnumero',
    print: 'Tulosta',
    notFoundTitle: 'Kuittia ei löytynyt',
    notFound: 'Tässä osoitteessa ei ole kuittia. Tarkista linkki tai pyydä kuittia taksiyhtiöltä.',
    lines: { fare: 'Taksimatka', toll: 'Tietulli', airport_fee: 'Lentokenttämaksu', luggage: 'Matkatavarat', booking_fee: 'Tilausmaksu', other: 'Muu' },
  },
};
