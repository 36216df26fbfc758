import type { Config } from "./config.js";
import { hashPassword } from "./crypto.js";
import type { DB } from "./db.js";
import { createStore } from "./store.js";

export const DEMO_PASSWORD = "demo-password-1";

const BARBERS = [
  { name: "Marco Rossi", email: "marco@example.com", bio: "Classic cuts and hot-towel shaves." },
  { name: "Aisha O'Neill", email: "aisha@example.com", bio: "Fades, designs and beard sculpting." },
  { name: "Kenji Sato", email: "kenji@example.com", bio: "Scissor work and long hair." },
];

const SERVICES = [
  { name: "Haircut", durationMinutes: 30, priceCents: 3000 },
  { name: "Beard trim", durationMinutes: 15, priceCents: 1500 },
  { name: "Haircut & beard", durationMinutes: 45, priceCents: 4000 },
  { name: "Hot-towel shave", durationMinutes: 30, priceCents: 2500 },
  { name: "Kids cut", durationMinutes: 30, priceCents: 2000 },
];

const CLIENTS = [
  { name: "Alice Martin", email: "alice@example.com" },
  { name: "Bob O'Brien", email: "bob@example.com" },
];

/** Seeds demo data into an empty database; creates the configured admin when absent. Returns what it did. */
export async function seed(db: DB, config: Pick<Config, "adminEmail" | "adminPassword">): Promise<string[]> {
  const store = createStore(db);
  const done: string[] = [];
  const empty = (db.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n === 0;
  if (empty) {
    const hash = await hashPassword(DEMO_PASSWORD);
    db.transaction(() => {
      for (const barber of BARBERS) {
        const user = store.createUser(barber.email, barber.name, hash, "barber");
        store.createBarber(user.id, barber.name, barber.bio);
      }
      for (const service of SERVICES) store.createService(service.name, service.durationMinutes, service.priceCents);
      for (const client of CLIENTS) store.createUser(client.email, client.name, hash, "client");
    })();
    done.push(`demo data: ${BARBERS.length} barbers, ${SERVICES.length} services, ${CLIENTS.length} clients`);
  }
  if (config.adminEmail && config.adminPassword && !store.userByEmail(config.adminEmail)) {
    store.createUser(
      config.adminEmail.toLowerCase(),
      "Administrator",
      await hashPassword(config.adminPassword),
      "admin",
    );
    done.push(`admin ${config.adminEmail}`);
  }
  return done;
}
