/** A message is plain text, or plural forms picked with Intl.PluralRules by the `n` parameter. */
export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type Message = string | PluralForms;
