export { getOverview as GET } from "@/lib/console/overview";
