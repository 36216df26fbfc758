import { api, el, money, say, when } from "./common.js";

const state = { user: null, services: [], barbers: [], bookingsNext: null };

async function refreshUser() {
  state.user = (await api("GET", "/api/auth/session")).user;
  document.getElementById("signed-in").classList.toggle("hidden", !state.user);
  document.getElementById("signed-out").classList.toggle("hidden", Boolean(state.user));
  document.getElementById("who").textContent = state.user ? `${state.user.name} (${state.user.email})` : "";
  await refreshBookings();
}

async function loadCatalog() {
  const [{ services }, { barbers }] = await Promise.all([api("GET", "/api/services"), api("GET", "/api/barbers")]);
  state.services = services;
  state.barbers = barbers;
  const serviceSelect = document.getElementById("service");
  for (const s of services)
    serviceSelect.append(el("option", { value: s.id }, `${s.name} (${s.durationMinutes} min, ${money(s.priceCents)})`));
  const barberSelect = document.getElementById("barber");
  for (const b of barbers) barberSelect.append(el("option", { value: b.id }, b.name));
}

async function loadSlots() {
  const barberId = document.getElementById("barber").value;
  const serviceId = document.getElementById("service").value;
  const date = document.getElementById("date").value;
  const list = document.getElementById("slots");
  list.replaceChildren();
  try {
    const { slots } = await api("GET", `/api/barbers/${barberId}/availability?date=${date}&serviceId=${serviceId}`);
    say("book-message", slots.length ? "Choose a time:" : "No free times that day.");
    for (const slot of slots) {
      const label = new Date(slot.start).toISOString().slice(11, 16);
      list.append(el("button", { type: "button", "data-start": slot.start, onclick: () => book(slot.start) }, label));
    }
  } catch (error) {
    say("book-message", error.message, true);
  }
}

async function book(startTime) {
  if (!state.user) return say("book-message", "Sign in or register to book.", true);
  try {
    const { appointment } = await api("POST", "/api/appointments", {
      barberId: Number(document.getElementById("barber").value),
      serviceId: Number(document.getElementById("service").value),
      startTime,
    });
    await Promise.all([refreshBookings(), loadSlots()]);
    say("book-message", `Booked for ${when(appointment.startTime)}.`);
  } catch (error) {
    say("book-message", error.message, true);
  }
}

// My bookings, newest first, one page at a time: "Older bookings" appends the next page.
async function refreshBookings() {
  document.getElementById("bookings").replaceChildren();
  await loadBookings(null);
}

async function loadBookings(cursor) {
  const more = document.getElementById("bookings-more");
  more.hidden = true;
  if (!state.user) return;
  const { appointments, next } = await api(
    "GET",
    cursor ? `/api/appointments?cursor=${encodeURIComponent(cursor)}` : "/api/appointments",
  );
  const body = document.getElementById("bookings");
  for (const a of appointments) {
    const service = state.services.find((s) => s.id === a.serviceId);
    const barber = state.barbers.find((b) => b.id === a.barberId);
    const actions = el("td");
    if (a.status === "booked") {
      actions.append(
        el(
          "button",
          { type: "button", class: "secondary", "data-action": "cancel", onclick: () => act("cancel", a.id) },
          "Cancel",
        ),
        " ",
        el("button", { type: "button", "data-action": "pay", onclick: () => act("pay", a.id) }, "Pay"),
      );
    }
    body.append(
      el(
        "tr",
        { "data-id": a.id },
        el("td", {}, when(a.startTime)),
        el("td", {}, service?.name ?? ""),
        el("td", {}, barber?.name ?? ""),
        el("td", { class: "status" }, a.status),
        actions,
      ),
    );
  }
  state.bookingsNext = next;
  more.hidden = !next;
}

async function act(action, id) {
  try {
    if (action === "cancel") {
      await api("POST", `/api/appointments/${id}/cancel`);
      say("bookings-message", "Cancelled.");
    } else {
      const cardNumber = document.getElementById("card").value;
      const { payment } = await api("POST", `/api/appointments/${id}/payments`, { cardNumber });
      say("bookings-message", `Paid ${money(payment.amountCents)}.`);
    }
  } catch (error) {
    say("bookings-message", error.message, true);
  }
  await refreshBookings();
}

function form(id, handler) {
  document.getElementById(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target));
    try {
      await handler(data);
      event.target.reset();
    } catch (error) {
      say("account-message", error.message, true);
    }
  });
}

form("login", async ({ email, password }) => {
  await api("POST", "/api/auth/login", { email, password });
  say("account-message", "Signed in.");
  await refreshUser();
});
form("register", async ({ name, email, password }) => {
  await api("POST", "/api/auth/register", { name, email, password });
  await api("POST", "/api/auth/login", { email, password });
  say("account-message", "Account created; you are signed in.");
  await refreshUser();
});
document.getElementById("logout").addEventListener("click", async () => {
  await api("POST", "/api/auth/logout");
  say("account-message", "Signed out.");
  await refreshUser();
});
document.getElementById("bookings-more").addEventListener("click", async () => {
  try {
    await loadBookings(state.bookingsNext);
  } catch (error) {
    say("bookings-message", error.message, true);
  }
});
document.getElementById("show-slots").addEventListener("submit", (event) => {
  event.preventDefault();
  loadSlots();
});

const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString().slice(0, 10);
document.getElementById("date").value = tomorrow;
await loadCatalog();
await refreshUser();
document.body.dataset.ready = "true";
