import { createApp } from "vue";
import App from "./App.vue";
import "./style.css";

document.documentElement.lang = "zh-CN";
createApp(App).mount("#app");
