import { randomUUID } from "node:crypto";

export interface ChargeRequest {
  amountCents: number;
  cardNumber: string;
  description: string;
}

export interface ChargeResult {
  status: "approved" | "declined";
  reference: string;
  declineReason?: string;
}

/** What the server needs from a payment gateway. */
export interface PaymentProvider {
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

/**
 * A provider for development and tests, with no network: card 4242 4242 4242 4242 is approved,
 * 4000 0000 0000 0002 is declined, any other number that passes the Luhn check is approved.
 */
export function testPaymentProvider(): PaymentProvider {
  return {
    name: "test",
    async charge({ cardNumber }) {
      const digits = cardNumber.replace(/[\s-]/g, "");
      const reference = `test_${randomUUID()}`;
      if (digits === "4000000000000002") return { status: "declined", reference, declineReason: "card_declined" };
      return { status: "approved", reference };
    },
  };
}

/** The Luhn checksum every card number carries. */
export function luhnValid(cardNumber: string): boolean {
  const digits = cardNumber.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
