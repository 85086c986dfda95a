// The customer's order or return page keeps itself current: every few seconds it asks
// …/live for the same lines as words and puts them in place as text (never as markup).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("live-data").textContent);

  function apply(data) {
    document.querySelectorAll("[data-live]").forEach((node) => {
      const value = data[node.dataset.live];
      if (typeof value !== "string") { return; }
      node.textContent = value;
      node.hidden = value === "";
    });
    document.querySelectorAll("[data-live-list]").forEach((list) => {
      const items = data[list.dataset.liveList];
      if (!Array.isArray(items)) { return; }
      list.replaceChildren(...items.map((entry) => {
        const li = document.createElement("li");
        const at = document.createElement("span");
        at.className = "text-muted small";
        at.textContent = entry.at;
        const text = document.createElement("span");
        text.textContent = entry.text;
        li.append(at, " ", text);
        return li;
      }));
    });
  }

  async function refresh() {
    try {
      const response = await fetch(config.url, {headers: {"Accept": "application/json"}, cache: "no-store"});
      if (response.ok) { apply(await response.json()); }
    } catch (error) {
      // No network for a moment: the page keeps what it shows and asks again later.
    }
  }

  setInterval(refresh, config.every_s * 1000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { refresh(); } });
})();
