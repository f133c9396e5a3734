// Every figure of a notebook output opens at full resolution on click (a new tab), so that a figure
// scaled down to the page's column can still be read.
document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll(".cell_output img")) {
    if (img.closest("a")) continue;
    const link = document.createElement("a");
    link.href = img.src;
    link.target = "_blank";
    link.title = "open the figure at full resolution";
    link.className = "opgan-figure-link";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  }
});
